#include "cluster/lint.hpp"

#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <map>
#include <optional>
#include <set>

#include "cluster/tls_policy.hpp"
#include "core/files.hpp"
#include "core/host.hpp"
#include "core/text.hpp"
#include "core/url.hpp"
#include "pki/certificate.hpp"
#include "pki/key.hpp"
#include "pki/policy.hpp"
#include "pki/verify.hpp"

namespace fs = std::filesystem;

namespace trellis::cluster {
namespace {

// Stable codes and names: scripts and docs (docs/lint.md) match on them. Never renumber.
constexpr auto kKinds = std::to_array<FindingKind>({
    {Lint::SchemeMismatch, "L101", "scheme-mismatch", Severity::Error,
     "advertised and listen URLs use different schemes (http vs https)"},
    {Lint::TlsFilesOnHttp, "L102", "tls-files-on-http", Severity::Error,
     "TLS files or client-cert auth set, but the URLs are plain http: traffic is in clear"},
    {Lint::HttpsWithoutCert, "L103", "https-without-cert", Severity::Error,
     "an https URL with no certificate or key file: etcd cannot start"},
    {Lint::SanMismatch, "L104", "san-mismatch", Severity::Error,
     "the certificate's SANs do not cover a host it is advertised (or reached) on"},
    {Lint::EkuMissing, "L105", "eku-missing", Severity::Error,
     "a server or peer certificate lacks the serverAuth or clientAuth extended key usage"},
    {Lint::KeyMismatch, "L106", "key-mismatch", Severity::Error, "the private key does not belong to the certificate"},
    {Lint::ChainInvalid, "L107", "chain-invalid", Severity::Error,
     "the certificate does not verify against its CA (OpenSSL or Botan)"},
    {Lint::CertExpired, "L108", "cert-expired", Severity::Error, "a certificate has expired or is not valid yet"},
    {Lint::CertExpiring, "L109", "cert-expiring", Severity::Warning,
     "a certificate expires within the warning window (30 days by default)"},
    {Lint::InitialClusterSelf, "L110", "initial-cluster-self", Severity::Error,
     "etcd-initial-cluster does not name this member with its advertised peer URLs"},
    {Lint::InitialClusterDiffers, "L111", "initial-cluster-differs", Severity::Error,
     "nodes disagree on etcd-initial-cluster"},
    {Lint::DuplicateName, "L112", "duplicate-name", Severity::Error, "two nodes use the same etcd-name"},
    {Lint::DuplicateUrl, "L113", "duplicate-url", Severity::Error, "two nodes advertise the same client or peer URL"},
    {Lint::EmptyToken, "L114", "empty-token", Severity::Error,
     "etcd-initial-cluster-token is empty: two clusters could merge"},
    {Lint::KeyPermissions, "L115", "key-permissions", Severity::Error,
     "a private key file is readable by others, or by a group without being root:GROUP 0640"},
    {Lint::FileUnreadable, "L116", "file-unreadable", Severity::Error,
     "a named file is missing, unreadable or not what it should be"},
    {Lint::InvalidValue, "L117", "invalid-value", Severity::Error,
     "a value etcd would refuse (initial-cluster entry, cluster state)"},
    {Lint::MissingProfile, "L118", "missing-profile", Severity::Warning,
     "ca-config.json lacks a profile the guide's cfssl commands ask for"},
    {Lint::TrustedCaEnforcesClientCerts, "L119", "trusted-ca-enforces-client-certs", Severity::Warning,
     "etcd-trusted-ca-file without etcd-client-cert-auth: etcd 3.4 requires client certs anyway"},
    {Lint::SharedPeerCa, "L120", "shared-peer-ca", Severity::Warning,
     "peers trust the client CA: any client certificate is accepted on the peer port"},
    {Lint::NoClientAuth, "L121", "no-client-auth", Severity::Warning,
     "https without client-cert auth: anyone who reaches the port is let in"},
    {Lint::AdvertiseWildcard, "L122", "advertise-wildcard", Severity::Error,
     "an advertised URL uses a wildcard address (0.0.0.0 or ::) nobody can connect to"},
    {Lint::CaKeyInNodeFolder, "L123", "ca-key-in-node-folder", Severity::Error,
     "a CA private key sits next to a node's configuration"},
    {Lint::TokenDiffers, "L124", "token-differs", Severity::Error,
     "nodes use different etcd-initial-cluster-token values"},
    {Lint::PolicyInvalid, "L125", "policy-invalid", Severity::Error,
     "ca-config.json cannot be read as a signing policy"},
    {Lint::LoopbackPeerSan, "L126", "loopback-peer-san", Severity::Error,
     "a loopback peer certificate lacks IP 127.0.0.1: etcd checks peers against their source address"},
    {Lint::NotACa, "L127", "not-a-ca", Severity::Error,
     "a trusted CA file holds a certificate that cannot sign certificates"},
    {Lint::ApiInsecureWithTls, "L128", "api-insecure-with-tls", Severity::Warning,
     "api-insecure serves the API in clear while etcd's client URLs are https: membership changes go unprotected"},
    {Lint::MeaninglessSan, "L129", "meaningless-san", Severity::Warning,
     "a certificate names no host in a SAN: the unspecified address (:: or 0.0.0.0) or an empty DNS name"},
    {Lint::ApiTransport, "L130", "api-transport", Severity::Error,
     "the backend API would be plain HTTP without api-insecure, or its TLS settings are incomplete or contradict"},
    {Lint::StoreCaMissing, "L131", "store-ca-missing", Severity::Error,
     "the backend reaches etcd over https but has no CA to verify etcd's certificate with"},
    {Lint::WeakCipherSuite, "L132", "weak-cipher-suite", Severity::Warning,
     "etcd-cipher-suites allows a TLS 1.2 suite without forward secrecy or without AEAD (CBC, RSA key exchange, 3DES, "
     "RC4)"},
    {Lint::CrlExpired, "L133", "crl-expired", Severity::Error,
     "a CRL is past its nextUpdate: the API refuses every client of its CA until provision re-signs it"},
    {Lint::CrlExpiring, "L134", "crl-expiring", Severity::Warning,
     "a CRL's nextUpdate is within the warning window (30 days by default); provision re-signs it"},
});

class Collector {
  public:
    explicit Collector(std::vector<Finding>& out) : out_(out) {}
    void add(Lint id, const std::string& file, int line, std::string message) {
        out_.push_back(Finding{&finding_kind(id), file, line, std::move(message)});
    }

  private:
    std::vector<Finding>& out_;
};

int line_of(const BackendConfig& c, Key key) {
    const Setting* s = c.find(key);
    return s ? s->origin.line : 0;
}

// Where a setting came from as a finding's (file, line): its line in the file, or the flag or
// environment variable that set it ("flag --cert-file"), so trellis-backend's preflight points
// at what the operator actually typed.
std::pair<std::string, int> place_of(const BackendConfig& c, std::optional<Key> key, const std::string& file) {
    const Setting* s = key ? c.find(*key) : nullptr;
    if (s == nullptr) return {file, 0};
    if (s->origin.line == 0 && !s->origin.source.empty()) return {s->origin.source, 0};
    return {file, s->origin.line};
}

std::string kn(Key key) { return std::string(key_name(key)); }

// The TLS policy shared by etcd's ports and the API (tls_policy.hpp): names etcd would refuse, names
// OpenSSL lacks, and suites weaker than ECDHE with AEAD.
void lint_tls_policy(Collector& c, const BackendConfig& cfg, const std::string& file) {
    const int suites_line = line_of(cfg, Key::EtcdCipherSuites);
    for (const auto& name : cfg.get_list(Key::EtcdCipherSuites)) {
        const CipherSuite* suite = find_cipher_suite(name);
        if (suite == nullptr)
            c.add(
                Lint::InvalidValue, file, suites_line,
                "etcd-cipher-suites names \"" + name +
                    "\", which etcd does not know and would refuse to start with; "
                    "use Go names such as TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, or remove the key for the default");
        else if (!suite->strong)
            c.add(Lint::WeakCipherSuite, file, suites_line,
                  "etcd-cipher-suites allows " + name +
                      (suite->openssl_name.empty() ? " (RC4; the API cannot offer it at all)" : "") +
                      ": it lacks forward secrecy or an AEAD cipher; remove the key for the default (ECDHE with "
                      "AES-GCM or ChaCha20-Poly1305)");
    }
    if (!tls_version(cfg.get(Key::ApiTlsMinVersion)))
        c.add(Lint::InvalidValue, file, line_of(cfg, Key::ApiTlsMinVersion),
              "api-tls-min-version is \"" + cfg.get(Key::ApiTlsMinVersion) + "\"; it must be 1.2 or 1.3");
}

std::string file_of(const BackendConfig& c) { return c.source().empty() ? "(flags)" : c.source(); }

std::set<std::string> schemes(const std::vector<std::string>& urls) {
    std::set<std::string> out;
    for (const auto& u : urls)
        if (auto p = try_parse_url(u, UrlKind::Peer)) out.insert(p->scheme);
    return out;
}

bool all_http(const std::vector<std::string>& urls) {
    const auto s = schemes(urls);
    return !s.empty() && !s.contains("https") && !s.contains("unixs");
}
bool any_https(const std::vector<std::string>& urls) {
    const auto s = schemes(urls);
    return s.contains("https") || s.contains("unixs");
}

// The pairs of URL lists that must agree on their scheme.
struct UrlPair {
    Key advertise, listen;
};
constexpr std::array<UrlPair, 2> kUrlPairs{{{Key::EtcdAdvertiseClientUrls, Key::EtcdListenClientUrls},
                                            {Key::EtcdInitialAdvertisePeerUrls, Key::EtcdListenPeerUrls}}};

// A TLS identity a node presents, and where lint finds its parts.
struct Identity {
    std::string_view what;  // "client-port server certificate"
    Key cert_key, key_key;
    std::optional<Key> ca_key;
    std::optional<Key> hosts_key;  // URL list whose hosts the cert must cover (none for client-only certs)
    std::optional<Key> urls_key;   // URLs that make TLS matter (https here means the cert is used)
    bool server_auth;
    bool client_auth;  // the certificate dials out with it (the API's only serves: cert_table.cpp)
    bool verify_chain;
    bool peer;
};
constexpr std::array<Identity, 4> kIdentities{{
    {"client-port server certificate", Key::EtcdCertFile, Key::EtcdKeyFile, Key::EtcdTrustedCaFile,
     Key::EtcdAdvertiseClientUrls, Key::EtcdListenClientUrls, true, true, true, false},
    {"peer certificate", Key::EtcdPeerCertFile, Key::EtcdPeerKeyFile, Key::EtcdPeerTrustedCaFile,
     Key::EtcdInitialAdvertisePeerUrls, Key::EtcdListenPeerUrls, true, true, true, true},
    {"API certificate", Key::CertFile, Key::KeyFile, std::nullopt, Key::ApiUrl, Key::ApiUrl, true, false, false, false},
    {"backend's etcd client certificate", Key::EtcdClientCertFile, Key::EtcdClientKeyFile, Key::EtcdTrustedCaFile,
     std::nullopt, std::nullopt, false, true, true, false},
}};

// The side of the node a set of TLS keys belongs to, for the URL checks.
struct TlsSide {
    std::string_view name;
    Key listen_key;
    std::array<Key, 3> files;
    Key auth_key;  // the bool that demands client certs
    Key ca_key;
};
constexpr std::array<TlsSide, 2> kSides{{
    {"client",
     Key::EtcdListenClientUrls,
     {Key::EtcdCertFile, Key::EtcdKeyFile, Key::EtcdTrustedCaFile},
     Key::EtcdClientCertAuth,
     Key::EtcdTrustedCaFile},
    {"peer",
     Key::EtcdListenPeerUrls,
     {Key::EtcdPeerCertFile, Key::EtcdPeerKeyFile, Key::EtcdPeerTrustedCaFile},
     Key::EtcdPeerClientCertAuth,
     Key::EtcdPeerTrustedCaFile},
}};

std::string host_of(const std::string& url) {
    auto u = try_parse_url(url, UrlKind::Peer);
    return u ? u->host : std::string();
}

std::string hours_left(std::chrono::system_clock::duration d) {
    const auto h = std::chrono::duration_cast<std::chrono::hours>(d).count();
    return h >= 48 ? std::to_string(h / 24) + " days" : std::to_string(h) + " hours";
}

void check_expiry(Collector& c, const pki::Certificate& cert, const std::string& path, const std::string& file,
                  int line, const LintOptions& o, pki::Clock::time_point now) {
    if (cert.not_after() <= now) {
        c.add(Lint::CertExpired, file, line,
              path + " (" + cert.common_name() + ") expired on " + utc_text(cert.not_after()) + ", " +
                  hours_left(now - cert.not_after()) + " ago; run cluster-config provision again to renew it");
    } else if (cert.not_before() > now) {
        c.add(Lint::CertExpired, file, line,
              path + " (" + cert.common_name() + ") is not valid for another " + hours_left(cert.not_before() - now) +
                  "; check the clocks");
    } else if (cert.not_after() - now < o.expiry_warning) {
        c.add(Lint::CertExpiring, file, line,
              path + " (" + cert.common_name() + ") expires on " + utc_text(cert.not_after()) + ", in " +
                  hours_left(cert.not_after() - now) + "; run cluster-config provision again to renew it");
    }
}

// Reads a certificate (or bundle) named by `key`; a problem becomes L116.
std::vector<pki::Certificate> load_certs(Collector& c, const BackendConfig& cfg, Key key) {
    const std::string path = cfg.get(key);
    try {
        return pki::Certificate::all_from_pem(read_file(path), path);
    } catch (const Error& e) {
        c.add(Lint::FileUnreadable, file_of(cfg), line_of(cfg, key), std::string(key_name(key)) + ": " + e.what());
        return {};
    }
}

// What every check of one identity (a certificate key and its key, CA and host keys) looks at.
struct IdentityView {
    Collector& c;
    const BackendConfig& cfg;
    const Identity& id;
    const LintOptions& o;
    pki::Clock::time_point now;
    std::string file;                     // the backend.yml
    int line;                             // of the certificate key
    std::string cert_path;                // its value
    std::vector<pki::Certificate> certs;  // the certificate, then any intermediates in the same file
    const pki::Certificate& cert() const { return certs.front(); }
};

// What provision writes, and nothing looser: the owner's only (0600, the spec's owner: user mode), or
// root's and one group's read (0640 root:GROUP, its mode: group) -- never the root group's, never writable.
bool key_mode_ok(const struct stat& st) {
    const mode_t perms = st.st_mode & 0777;
    if ((perms & 077) == 0) return true;
    return (perms & 037) == 0 && st.st_uid == 0 && st.st_gid != 0;
}

// L115 and L117: the private key is the owner's only and is the certificate's.
void check_private_key(const IdentityView& v) {
    if (!v.cfg.has(v.id.key_key) || v.cfg.get(v.id.key_key).empty()) return;
    const std::string key_path = v.cfg.get(v.id.key_key);
    const int line = line_of(v.cfg, v.id.key_key);
    struct stat st {};
    if (::stat(key_path.c_str(), &st) == 0 && !key_mode_ok(st)) {
        char mode[8];
        std::snprintf(mode, sizeof mode, "%04o", st.st_mode & 07777);
        v.c.add(Lint::KeyPermissions, v.file, line,
                key_path + " has mode " + mode + " (owner " + std::to_string(st.st_uid) + ":" +
                    std::to_string(st.st_gid) +
                    "): a private key must be readable by its owner only (chmod 600), or also by one group if "
                    "root owns it (chown root:GROUP, chmod 640; the spec's owner: with mode: group)");
    }
    try {
        const auto key = pki::PrivateKey::from_pem(read_file(key_path), key_path);
        if (!v.cert().matches(key))
            v.c.add(Lint::KeyMismatch, v.file, line,
                    key_path + " is not the key of " + v.cert_path + "; pair each certificate with its own key");
    } catch (const Error& e) {
        v.c.add(Lint::FileUnreadable, v.file, line, std::string(key_name(v.id.key_key)) + ": " + e.what());
    }
}

void check_validity(const IdentityView& v) { check_expiry(v.c, v.cert(), v.cert_path, v.file, v.line, v.o, v.now); }

// The extended key usages the identity's connections need.
void check_eku(const IdentityView& v) {
    std::string missing;
    if (v.id.server_auth && !v.cert().has_ext_key_usage(NID_server_auth)) missing += "serverAuth";
    if (v.id.client_auth && !v.cert().has_ext_key_usage(NID_client_auth))
        missing += std::string(missing.empty() ? "" : " and ") + "clientAuth";
    if (missing.empty()) return;
    const std::string why = !v.id.client_auth  ? "clients connect to it over https"
                            : v.id.server_auth ? (v.id.peer ? "peers connect to and from each other with it"
                                                            : "etcd's gateway dials back to itself with it")
                                               : "it identifies the backend to etcd";
    v.c.add(Lint::EkuMissing, v.file, v.line,
            v.cert_path + " (" + std::string(v.id.what) + ") lacks " + missing + "; " + why);
}

// cfssl writes an empty DNS SAN for hosts [""], and the guide asks for "::" among the hosts: neither is
// an address anyone connects to, so a certificate carrying them was made by mistake or by copying.
void check_meaningless_sans(const IdentityView& v) {
    std::string meaningless;
    for (const auto& ip : v.cert().ip_addresses())
        if (is_wildcard(ip)) meaningless += (meaningless.empty() ? "IP " : ", IP ") + ip;
    for (const auto& dns : v.cert().dns_names())
        if (dns.empty()) meaningless += meaningless.empty() ? "an empty DNS name" : ", an empty DNS name";
    if (!meaningless.empty())
        v.c.add(Lint::MeaninglessSan, v.file, v.line,
                v.cert_path + " (" + v.cert().common_name() + ") has SANs that name no host (" + meaningless +
                    "); reissue it with the node's addresses only");
}

// Every host the identity is advertised or listens on is among its SANs (and 127.0.0.1 for loopback peers).
void check_host_sans(const IdentityView& v) {
    if (!v.id.hosts_key) return;
    // Hosts it is advertised on, and those it listens on: clients reach it on both.
    std::map<std::string, Key> hosts;  // host -> the first key naming it
    for (const Key key : {*v.id.hosts_key, *v.id.urls_key})
        for (const auto& u : v.cfg.get_list(key)) {
            const std::string h = host_of(u);
            if (!h.empty() && !is_wildcard(h)) hosts.emplace(h, key);
        }
    for (const auto& [h, key] : hosts)
        if (!v.cert().covers_host(h))
            v.c.add(Lint::SanMismatch, v.file, v.line,
                    v.cert_path + " does not cover " + h + " (" + std::string(key_name(key)) + "); reissue it with " +
                        h + " among its hosts");
    // Peers dialing over loopback come from 127.0.0.1, whatever address they dial.
    if (v.id.peer && std::any_of(hosts.begin(), hosts.end(), [](const auto& h) { return is_loopback(h.first); }) &&
        !v.cert().covers_host("127.0.0.1"))
        v.c.add(Lint::LoopbackPeerSan, v.file, v.line,
                v.cert_path + " lacks IP 127.0.0.1, the source address of peers on this host");
}

// The CA file holds CAs that are valid, and the (valid) certificate verifies against them.
void check_chain(const IdentityView& v) {
    const auto& cert = v.cert();
    if (!v.id.verify_chain || !v.id.ca_key || !v.cfg.has(*v.id.ca_key) || v.cfg.get(*v.id.ca_key).empty() ||
        cert.not_after() <= v.now || cert.not_before() > v.now)
        return;
    const Key ca_key = *v.id.ca_key;
    const auto roots = load_certs(v.c, v.cfg, ca_key);
    if (roots.empty()) return;
    for (const auto& r : roots) {
        if (!r.can_sign_certificates())
            v.c.add(Lint::NotACa, v.file, line_of(v.cfg, ca_key),
                    v.cfg.get(ca_key) + " (" + r.common_name() + ") is not a CA certificate");
        check_expiry(v.c, r, v.cfg.get(ca_key), v.file, line_of(v.cfg, ca_key), v.o, v.now);
    }
    pki::VerifyRequest req{cert, {v.certs.begin() + 1, v.certs.end()}, roots, pki::Purpose::Any, std::nullopt, v.now};
    if (const std::string why = pki::chain_problem(req); !why.empty())
        v.c.add(Lint::ChainInvalid, v.file, v.line,
                v.cert_path + " does not verify against " + v.cfg.get(ca_key) + ": " + why);
}

// The checks of one identity, in the order their findings are listed.
constexpr std::array kIdentityChecks{check_private_key,      check_validity,  check_eku,
                                     check_meaningless_sans, check_host_sans, check_chain};

void check_identity(Collector& c, const BackendConfig& cfg, const Identity& id, const LintOptions& o,
                    pki::Clock::time_point now) {
    if (!cfg.has(id.cert_key) || cfg.get(id.cert_key).empty()) return;
    IdentityView view{c, cfg, id, o, now, file_of(cfg), line_of(cfg, id.cert_key), cfg.get(id.cert_key), {}};
    view.certs = load_certs(c, cfg, id.cert_key);
    if (view.certs.empty()) return;
    for (const auto check : kIdentityChecks) check(view);
}

struct Entry {
    std::string name, url;
};
std::vector<Entry> initial_cluster(const BackendConfig& cfg, Collector* c) {
    std::vector<Entry> out;
    for (const auto& e : cfg.get_list(Key::EtcdInitialCluster)) {
        const size_t eq = e.find('=');
        std::string why;
        if (eq == std::string::npos || eq == 0 || !try_parse_url(e.substr(eq + 1), UrlKind::Peer, &why)) {
            if (c)
                c->add(Lint::InvalidValue, file_of(cfg), line_of(cfg, Key::EtcdInitialCluster),
                       "etcd-initial-cluster entry \"" + e + "\" is not name=URL" + (why.empty() ? "" : ": " + why));
            continue;
        }
        out.push_back({e.substr(0, eq), e.substr(eq + 1)});
    }
    return out;
}

bool is_member(const BackendConfig& cfg) { return !cfg.get_bool(Key::NoEmbedEtcd); }

}  // namespace

std::span<const FindingKind> finding_kinds() { return kKinds; }

const FindingKind& finding_kind(Lint id) {
    for (const auto& k : kKinds)
        if (k.id == id) return k;
    throw Error(Code::Internal, "lint: no finding kind " + std::to_string(static_cast<int>(id)));
}

const FindingKind* find_finding_kind(std::string_view code_or_name) {
    for (const auto& k : kKinds)
        if (k.code == code_or_name || k.name == code_or_name) return &k;
    return nullptr;
}

std::string Finding::to_string() const {
    std::string where = file;
    if (line > 0) where += ":" + std::to_string(line);
    return where + ": " + std::string(kind->code) + " " + std::string(kind->name) + ": " + message;
}

std::string CertExpiry::to_string() const {
    const auto now = pki::Clock::now();
    return key + " " + file + " (" + subject + ") " + (expired ? "expired on " : "expires on ") + utc_text(not_after) +
           (expired ? ", " + hours_left(now - not_after) + " ago" : ", in " + hours_left(not_after - now));
}

namespace {

// The certificate files expiring_certificates reads, each once, with the key that names it.
std::vector<std::pair<Key, std::string>> certificate_files(const BackendConfig& cfg) {
    std::vector<std::pair<Key, std::string>> out;
    std::set<std::string> seen;
    for (const auto& id : kIdentities)
        for (const std::optional<Key> key : {std::optional<Key>(id.cert_key), id.ca_key})
            if (key && cfg.has(*key) && !cfg.get(*key).empty() && seen.insert(cfg.get(*key)).second)
                out.emplace_back(*key, cfg.get(*key));
    return out;
}

}  // namespace

std::vector<CertExpiry> expiring_certificates(const BackendConfig& cfg, std::chrono::hours window,
                                              pki::Clock::time_point now) {
    std::vector<CertExpiry> out;
    for (const auto& [key, path] : certificate_files(cfg)) {
        std::vector<pki::Certificate> certs;
        try {
            certs = pki::Certificate::all_from_pem(read_file(path), path);
        } catch (const Error&) {
            continue;
        }
        for (const auto& cert : certs)
            if (cert.not_after() - now < window)
                out.push_back({std::string(key_name(key)), path, cert.subject_text(), cert.serial_decimal(),
                               cert.not_after(), cert.not_after() <= now});
    }
    return out;
}

std::vector<CertExpiry> CertExpiryCache::expiring(std::chrono::hours window, pki::Clock::time_point now) {
    std::vector<FileStamp> stamps;
    for (const auto& file : certificate_files(config_)) stamps.push_back(stamp_of(file.second));
    const std::lock_guard lock(mutex_);
    if (stamps_ != stamps) {
        all_ = expiring_certificates(config_, kEveryDate, now);
        stamps_ = std::move(stamps);
    }
    std::vector<CertExpiry> out;
    for (auto e : all_)
        if (e.not_after - now < window) {
            e.expired = e.not_after <= now;
            out.push_back(std::move(e));
        }
    return out;
}

namespace {

// What every check of one node's backend.yml looks at.
struct NodeView {
    Collector& c;
    const BackendConfig& cfg;
    const LintOptions& o;
    pki::Clock::time_point now;
    std::string file;
    bool member;  // runs an embedded etcd member
};

// Advertised and listen URLs agree on their scheme, and nothing advertises a wildcard.
void check_url_pairs(const NodeView& v) {
    const BackendConfig& cfg = v.cfg;
    for (const auto& p : kUrlPairs) {
        const auto adv = schemes(cfg.get_list(p.advertise));
        const auto lis = schemes(cfg.get_list(p.listen));
        if (!adv.empty() && !lis.empty() && adv != lis) {
            const Key at = cfg.has(p.advertise) ? p.advertise : p.listen;
            const auto defaulted = [&](Key key) { return cfg.has(key) ? "" : " (its default)"; };
            v.c.add(Lint::SchemeMismatch, v.file, line_of(cfg, at),
                    kn(p.advertise) + " uses " + join(adv, ", ") + defaulted(p.advertise) + " but " + kn(p.listen) +
                        " uses " + join(lis, ", ") + defaulted(p.listen) +
                        "; clients would speak the wrong protocol: use the same scheme for both");
        }
        for (const auto& u : cfg.get_list(p.advertise))
            if (is_wildcard(host_of(u)))
                v.c.add(Lint::AdvertiseWildcard, v.file, line_of(cfg, p.advertise),
                        kn(p.advertise) + " " + u + " is a wildcard; advertise the address others connect to");
    }
}

// An https side (client or peer) of etcd has its certificate, key and client CA.
void check_https_side(const NodeView& v, const TlsSide& side, bool auth) {
    const BackendConfig& cfg = v.cfg;
    for (const auto& f : {side.files[0], side.files[1]})
        if (!cfg.has(f) || cfg.get(f).empty())
            v.c.add(Lint::HttpsWithoutCert, v.file, line_of(cfg, side.listen_key),
                    kn(side.listen_key) + " is https but " + kn(f) + " is not set");
    const bool has_ca = cfg.has(side.ca_key) && !cfg.get(side.ca_key).empty();
    if (!has_ca && !auth)
        v.c.add(Lint::NoClientAuth, v.file, line_of(cfg, side.listen_key),
                std::string(side.name) + " port is https without " + kn(side.auth_key) +
                    ": anyone who reaches it is let in; set " + kn(side.ca_key) + " and " + kn(side.auth_key) +
                    ": true");
    if (auth && !has_ca)
        v.c.add(Lint::HttpsWithoutCert, v.file, line_of(cfg, side.auth_key),
                kn(side.auth_key) + " is true but " + kn(side.ca_key) + " is not set");
}

// TLS files are used where they are set: never on an http side, always on an https one.
void check_tls_sides(const NodeView& v) {
    const BackendConfig& cfg = v.cfg;
    for (const auto& side : kSides) {
        const auto listen = cfg.get_list(side.listen_key);
        std::vector<Key> set_files;
        for (const auto& f : side.files)
            if (cfg.has(f) && !cfg.get(f).empty()) set_files.push_back(f);
        const bool auth = cfg.get_bool(side.auth_key);
        if (all_http(listen) && (!set_files.empty() || auth)) {
            const Key at = set_files.empty() ? side.auth_key : set_files.front();
            v.c.add(Lint::TlsFilesOnHttp, v.file, line_of(cfg, at),
                    kn(at) + " is set but " + kn(side.listen_key) + " is http" +
                        (cfg.has(side.listen_key) ? "" : " (its default)") + ": etcd ignores it and the " +
                        std::string(side.name) + " traffic is in clear; use https URLs");
        }
        if (any_https(listen)) check_https_side(v, side, auth);
    }
}

// etcd's CA settings say what etcd does: client certificates required, peers with a CA of their own.
void check_store_cas(const NodeView& v) {
    const BackendConfig& cfg = v.cfg;
    if (cfg.has(Key::EtcdTrustedCaFile) && !cfg.get(Key::EtcdTrustedCaFile).empty() &&
        !cfg.get_bool(Key::EtcdClientCertAuth) && any_https(cfg.get_list(Key::EtcdListenClientUrls)))
        v.c.add(Lint::TrustedCaEnforcesClientCerts, v.file, line_of(cfg, Key::EtcdTrustedCaFile),
                "etcd-trusted-ca-file is set without etcd-client-cert-auth: etcd 3.4 requires client certificates "
                "anyway; say etcd-client-cert-auth: true so the file says what happens");
    if (!cfg.has(Key::EtcdPeerTrustedCaFile) || !cfg.has(Key::EtcdTrustedCaFile) ||
        !any_https(cfg.get_list(Key::EtcdListenPeerUrls)))
        return;
    const std::string a = cfg.get(Key::EtcdPeerTrustedCaFile), b = cfg.get(Key::EtcdTrustedCaFile);
    bool same = a == b;
    if (!same && v.o.check_files) {
        try {
            same = read_file(a) == read_file(b);
        } catch (const Error&) {
        }
    }
    if (same)
        v.c.add(Lint::SharedPeerCa, v.file, line_of(cfg, Key::EtcdPeerTrustedCaFile),
                "peers trust the same CA as clients, so any client certificate is accepted on the peer port; "
                "give peers a CA of their own (cluster spec: ca: separate)");
}

// The token, the initial state and this member's own entry in the initial cluster.
void check_initial_cluster(const NodeView& v) {
    const BackendConfig& cfg = v.cfg;
    if (cfg.get(Key::EtcdInitialClusterToken).empty())
        v.c.add(Lint::EmptyToken, v.file, line_of(cfg, Key::EtcdInitialClusterToken),
                "etcd-initial-cluster-token is empty: members of another cluster started the same way could join "
                "this one; set a token unique to this cluster");
    const std::string state = cfg.get(Key::EtcdInitialClusterState);
    if (state != "new" && state != "existing")
        v.c.add(Lint::InvalidValue, v.file, line_of(cfg, Key::EtcdInitialClusterState),
                "etcd-initial-cluster-state is \"" + state + "\"; it must be new or existing");
    const auto entries = initial_cluster(cfg, &v.c);
    const std::string name = cfg.get(Key::EtcdName);
    std::set<std::string> mine;
    for (const auto& e : entries)
        if (e.name == name) mine.insert(e.url);
    const auto adv = cfg.get_list(Key::EtcdInitialAdvertisePeerUrls);
    const std::set<std::string> want(adv.begin(), adv.end());
    if (mine.empty())
        v.c.add(Lint::InitialClusterSelf, v.file, line_of(cfg, Key::EtcdInitialCluster),
                "etcd-initial-cluster does not name this member \"" + name + "\"; add " + name + "=" +
                    (adv.empty() ? "URL" : adv.front()));
    else if (mine != want)
        v.c.add(Lint::InitialClusterSelf, v.file, line_of(cfg, Key::EtcdInitialCluster),
                "etcd-initial-cluster gives " + name + " the peer URLs " + join(mine, ", ") +
                    " but etcd-initial-advertise-peer-urls says " + join(want, ", ") + "; they must match");
}

// The backend API: its scheme and files agree, the TLS policy holds, and it asks its clients for certificates.
void check_api(const NodeView& v) {
    const BackendConfig& cfg = v.cfg;
    const std::string api = cfg.get(Key::ApiUrl);
    if (!api.empty()) {
        const bool https = api.starts_with("https://");
        if (https && (!cfg.has(Key::CertFile) || !cfg.has(Key::KeyFile)))
            v.c.add(Lint::HttpsWithoutCert, v.file, line_of(cfg, Key::ApiUrl),
                    "api-url is https but cert-file or key-file is not set");
        if (!https && cfg.has(Key::CertFile))
            v.c.add(Lint::TlsFilesOnHttp, v.file, line_of(cfg, Key::CertFile),
                    "cert-file is set but api-url is http; use https");
    }
    if (const ApiTransportCheck api_check = check_api_transport(cfg); !api_check.transport) {
        const auto [where, line] = place_of(cfg, api_check.key, v.file);
        v.c.add(Lint::ApiTransport, where, line, api_check.problem);
    }
    lint_tls_policy(v.c, cfg, v.file);
    if (cfg.has(Key::CertFile) && !cfg.get(Key::CertFile).empty() && cfg.get(Key::TrustedCaFile).empty())
        v.c.add(Lint::NoClientAuth, v.file, line_of(cfg, Key::CertFile),
                "the API has cert-file but no trusted-ca-file: it accepts clients without certificates, and any of "
                "them can change cluster membership; set trusted-ca-file to the CA of your clients");
}

// The backend can verify the store it talks to, and an https store is not fronted by a plain API.
void check_store_trust(const NodeView& v) {
    const BackendConfig& cfg = v.cfg;
    const auto store_urls = v.member ? cfg.get_list(Key::EtcdListenClientUrls) : cfg.store_endpoints();
    if (any_https(store_urls) && cfg.etcd_client_trusted_ca_file().empty()) {
        const Key key = v.member ? Key::EtcdListenClientUrls : Key::EtcdClientUrls;
        v.c.add(Lint::StoreCaMissing, v.file, line_of(cfg, key),
                kn(key) +
                    " is https but the backend has no CA to verify etcd with: set etcd-client-trusted-ca-file "
                    "(or etcd-trusted-ca-file, which also makes etcd require client certificates)");
    }
    const bool api_tls = cfg.has(Key::CertFile) && !cfg.get(Key::CertFile).empty();
    if (!api_tls && cfg.get_bool(Key::ApiInsecure) && any_https(store_urls))
        v.c.add(Lint::ApiInsecureWithTls, v.file, line_of(cfg, Key::ApiInsecure),
                "api-insecure is true while etcd's client URLs are https: the store is protected but the API that "
                "changes its membership is in clear; set cert-file, key-file and trusted-ca-file instead");
}

// The certificates and keys of every identity this node uses over https.
void check_identities(const NodeView& v) {
    const std::string api = v.cfg.get(Key::ApiUrl);
    for (const auto& id : kIdentities) {
        if (!id.urls_key && v.member) continue;  // the backend's own client cert matters with an external store
        if (id.urls_key && *id.urls_key != Key::ApiUrl && !v.member) continue;
        if (id.urls_key &&
            !any_https(*id.urls_key == Key::ApiUrl ? std::vector<std::string>{api} : v.cfg.get_list(*id.urls_key)))
            continue;  // L102 already says the files are unused
        check_identity(v.c, v.cfg, id, v.o, v.now);
    }
}

// No CA key lies next to the node's configuration.
void check_ca_keys_nearby(const NodeView& v) {
    if (v.cfg.source().empty()) return;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(v.cfg.base_dir().empty() ? fs::path(".") : v.cfg.base_dir(), ec)) {
        const std::string n = entry.path().filename().string();
        if (n.find("ca-key") != std::string::npos && n.ends_with(".pem"))
            v.c.add(
                Lint::CaKeyInNodeFolder, v.file, 0,
                entry.path().string() + " is a CA key next to this node's configuration; keep CA keys off the nodes");
    }
}

// The CRLs the node names (crl-file, etcd-client-crl-file, etcd-peer-crl-file), each file once: readable,
// and not near or past nextUpdate -- OpenSSL (the API) then refuses every certificate of the CA; etcd
// (Go) ignores nextUpdate, but the same file serves both.
void check_crls(const NodeView& v) {
    std::set<std::string> seen;
    for (const Key key : {Key::CrlFile, Key::EtcdClientCrlFile, Key::EtcdPeerCrlFile}) {
        const std::string path = v.cfg.has(key) ? v.cfg.get(key) : "";
        if (path.empty() || !seen.insert(path).second) continue;
        pki::CrlInfo crl;
        try {
            crl = pki::read_crl(read_file(path), path);
        } catch (const Error& e) {
            v.c.add(Lint::FileUnreadable, v.file, line_of(v.cfg, key), kn(key) + ": " + e.what());
            continue;
        }
        const std::string fix = "; run cluster-config provision again to re-sign it, and copy it to the node";
        if (crl.next_update <= v.now)
            v.c.add(Lint::CrlExpired, v.file, line_of(v.cfg, key),
                    path + ": the CRL's next update was due on " + utc_text(crl.next_update) +
                        " and the API now refuses every client of its CA" + fix);
        else if (crl.next_update - v.now < v.o.expiry_warning)
            v.c.add(Lint::CrlExpiring, v.file, line_of(v.cfg, key),
                    path + ": the CRL's next update is due on " + utc_text(crl.next_update) + ", in " +
                        hours_left(crl.next_update - v.now) + fix);
    }
}

// The checks of one node, in the order their findings are listed.
struct NodeCheck {
    bool member_only;  // about the embedded etcd
    bool reads_files;  // only with LintOptions::check_files
    void (*run)(const NodeView&);
};
constexpr std::array<NodeCheck, 9> kNodeChecks{{
    {true, false, check_url_pairs},
    {true, false, check_tls_sides},
    {true, false, check_store_cas},
    {true, false, check_initial_cluster},
    {false, false, check_api},
    {false, false, check_store_trust},
    {false, true, check_identities},
    {false, true, check_ca_keys_nearby},
    {false, true, check_crls},
}};

}  // namespace

std::vector<Finding> lint_node(const BackendConfig& cfg, const LintOptions& options) {
    std::vector<Finding> out;
    Collector c(out);
    const NodeView view{c, cfg, options, options.now.value_or(pki::Clock::now()), file_of(cfg), is_member(cfg)};
    for (const auto& check : kNodeChecks)
        if ((!check.member_only || view.member) && (!check.reads_files || options.check_files)) check.run(view);
    return out;
}

namespace {

bool joins(const BackendConfig& cfg) { return cfg.get(Key::EtcdInitialClusterState) == "existing"; }

std::set<std::string> initial_entries(const BackendConfig& cfg) {
    std::set<std::string> out;
    for (const auto& e : initial_cluster(cfg, nullptr)) out.insert(e.name + "=" + e.url);
    return out;
}

// Bootstrap members (state new) must list the same cluster. A member that joined later (state existing)
// lists that cluster plus the members that joined up to it -- what etcd's member add answers -- so it
// may list more, never fewer.
void check_initial_cluster(Collector& c, const BackendConfig& cfg, const BackendConfig& bootstrap) {
    const auto mine = initial_entries(cfg), theirs = initial_entries(bootstrap);
    std::string diff;
    if (!joins(cfg))
        for (const auto& e : mine)
            if (!theirs.contains(e)) diff += (diff.empty() ? "" : ", ") + ("+" + e);
    for (const auto& e : theirs)
        if (!mine.contains(e)) diff += (diff.empty() ? "" : ", ") + ("-" + e);
    if (diff.empty()) return;
    c.add(Lint::InitialClusterDiffers, file_of(cfg), line_of(cfg, Key::EtcdInitialCluster),
          "etcd-initial-cluster differs from " + file_of(bootstrap) + " (" + diff + "); " +
              (joins(cfg) ? "a member that joins lists every bootstrap member"
                          : "every member must list the same cluster"));
}

}  // namespace

std::vector<Finding> lint_cluster(std::span<const BackendConfig> configs, const LintOptions& options) {
    (void)options;
    std::vector<Finding> out;
    Collector c(out);
    std::map<std::string, std::string> names, urls;  // value -> file that took it
    const BackendConfig* first = nullptr;
    const BackendConfig* bootstrap = nullptr;  // the first member that bootstraps (state new)
    for (const auto& cfg : configs)
        if (!bootstrap && is_member(cfg) && !joins(cfg)) bootstrap = &cfg;
    for (const auto& cfg : configs) {
        if (!is_member(cfg)) continue;
        const std::string file = file_of(cfg);
        const std::string name = cfg.get(Key::EtcdName);
        if (auto [it, fresh] = names.emplace(name, file); !fresh)
            c.add(Lint::DuplicateName, file, line_of(cfg, Key::EtcdName),
                  "etcd-name \"" + name + "\" is also the name in " + it->second);
        for (const Key key : {Key::EtcdAdvertiseClientUrls, Key::EtcdInitialAdvertisePeerUrls}) {
            for (const auto& u : cfg.get_list(key)) {
                if (auto [it, fresh] = urls.emplace(u, file); !fresh && it->second != file)
                    c.add(Lint::DuplicateUrl, file, line_of(cfg, key),
                          kn(key) + " " + u + " is also advertised by " + it->second);
            }
        }
        if (!first) first = &cfg;
        if (bootstrap && &cfg != bootstrap) check_initial_cluster(c, cfg, *bootstrap);
        if (cfg.get(Key::EtcdInitialClusterToken) != first->get(Key::EtcdInitialClusterToken))
            c.add(Lint::TokenDiffers, file, line_of(cfg, Key::EtcdInitialClusterToken),
                  "etcd-initial-cluster-token \"" + cfg.get(Key::EtcdInitialClusterToken) + "\" differs from \"" +
                      first->get(Key::EtcdInitialClusterToken) + "\" in " + file_of(*first));
    }
    return out;
}

std::vector<Finding> lint_signing_policy(std::string_view json, std::string_view source) {
    std::vector<Finding> out;
    Collector c(out);
    pki::SigningPolicy policy;
    try {
        policy = pki::parse_signing_policy(json, source);
    } catch (const Error& e) {
        c.add(Lint::PolicyInvalid, std::string(source), 0, e.what());
        return out;
    }
    // The guide runs `cfssl gencert -profile=peer` and `-profile=client`; cfssl quietly signs with the
    // default profile when the name is missing, so the result is not what the command line says.
    for (const char* profile : {"peer", "client"}) {
        if (!policy.profiles.contains(profile))
            c.add(Lint::MissingProfile, std::string(source), 0,
                  std::string("no \"") + profile + "\" profile: `-profile=" + profile +
                      "` silently falls back to the default profile; define signing.profiles." + profile);
    }
    return out;
}

}  // namespace trellis::cluster
