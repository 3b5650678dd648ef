#include "cluster/provision.hpp"

#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <exception>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "cluster/net.hpp"
#include "core/files.hpp"
#include "pki/issue.hpp"
#include "pki/request.hpp"

namespace fs = std::filesystem;

namespace trellis::cluster {
namespace {

// The CAs a cluster may have: the client CA signs server certs of the client port (and the API)
// and every client cert; the peer CA signs only peer certs, so a client cert is useless on the peer port.
struct CaKind {
    std::string_view file;       // "ca" -> ca.pem, ca-key.pem under DIR/ca/
    std::string_view cn_suffix;  // appended to the spec's CA CN
};
constexpr std::array<CaKind, 2> kCaKinds{{{"ca", ""}, {"peer-ca", " (peers)"}}};
enum CaIndex { kClientCa = 0, kPeerCa = 1 };

enum class Role { Server, Peer, NodeClient, Client };
struct RoleInfo {
    Role role;
    bool server_auth;
    std::string_view what;  // for reasons: "server certificate"
};
// Servers and peers need both EKUs: etcd's gateway and peers dial out with the same cert.
constexpr std::array<RoleInfo, 4> kRoles{{
    {Role::Server, true, "server certificate"},
    {Role::Peer, true, "peer certificate"},
    {Role::NodeClient, false, "client certificate"},
    {Role::Client, false, "client certificate"},
}};
const RoleInfo& role_info(Role r) {
    for (const auto& i : kRoles)
        if (i.role == r) return i;
    return kRoles[0];
}

struct CaState {
    bool needed = false;
    fs::path cert_path, key_path;  // relative to out
    std::optional<pki::Signer> signer;
    std::string cert_pem, key_pem;
    std::string why_new;  // non-empty when this run creates it
};

struct Leaf {
    Role role;
    int ca;
    fs::path cert_path, key_path;  // relative to out
    std::string cn;
    std::vector<std::string> hosts;
    std::string why;  // non-empty: (re)issue
    std::string cert_pem, key_pem;
};

std::optional<std::string> read_if_exists(const fs::path& path) {
    std::error_code ec;
    if (!fs::exists(path, ec)) return std::nullopt;
    return read_file(path);
}

std::string hours_text(pki::Duration d) {
    return std::to_string(std::chrono::duration_cast<std::chrono::hours>(d).count()) + "h";
}

std::vector<std::string> leaf_usages(const pki::KeyRequest& key, bool server) {
    std::vector<std::string> u{"signing"};
    if (key.algo == pki::KeyAlgorithm::Rsa) u.push_back("key encipherment");  // RSA key transport only
    if (server) u.push_back("server auth");
    u.push_back("client auth");
    return u;
}

std::string describe_key(const pki::KeyRequest& k) {
    return std::string(pki::algorithm_name(k.algo)) +
           (k.algo == pki::KeyAlgorithm::Ed25519 ? "" : "-" + std::to_string(k.size));
}

std::string set_difference_text(const std::set<std::string>& want, const std::set<std::string>& have) {
    std::string out;
    for (const auto& w : want)
        if (!have.contains(w)) out += (out.empty() ? "" : ", ") + ("+" + w);
    for (const auto& h : have)
        if (!want.contains(h)) out += (out.empty() ? "" : ", ") + ("-" + h);
    return out;
}

// Why an existing certificate must be reissued, or "" when it still fits the spec.
std::string reissue_reason(const Leaf& leaf, const std::string& cert_pem, const std::string& key_pem, const CaState& ca,
                           const Spec& spec, pki::Clock::time_point now) {
    std::optional<pki::Certificate> cert;
    std::optional<pki::PrivateKey> key;
    try {
        cert = pki::Certificate::from_pem(cert_pem, leaf.cert_path.string());
        key = pki::PrivateKey::from_pem(key_pem, leaf.key_path.string());
    } catch (const Error& e) {
        return std::string("unreadable: ") + e.what();
    }
    if (!cert->matches(*key)) return "key does not match the certificate";
    if (!ca.signer) return "new CA";
    X509* ca_x = ca.signer->certificate().get();
    if (X509_check_issued(ca_x, cert->get()) != X509_V_OK || X509_verify(cert->get(), X509_get0_pubkey(ca_x)) != 1)
        return "not signed by the current CA";
    if (cert->common_name() != leaf.cn) return "common name differs";
    const pki::KeyRequest k = key->describe();
    if (k.algo != spec.leaf_key.algo || k.size != spec.leaf_key.size)
        return "key is " + describe_key(k) + ", spec asks for " + describe_key(spec.leaf_key);
    const bool server = role_info(leaf.role).server_auth;
    if (!cert->has_ext_key_usage(NID_client_auth) || cert->has_ext_key_usage(NID_server_auth) != server)
        return "extended key usage differs";
    Warnings ignored;
    const pki::SubjectAltNames want = pki::classify_hosts(leaf.hosts, "hosts", ignored);
    std::set<std::string> want_names(want.dns.begin(), want.dns.end()), have_names;
    want_names.insert(want.ips.begin(), want.ips.end());
    for (const auto& n : cert->dns_names()) have_names.insert(n);
    for (const auto& n : cert->ip_addresses()) have_names.insert(n);
    if (want_names != have_names) return "SANs changed: " + set_difference_text(want_names, have_names);
    const auto left = cert->not_after() - now;
    if (left < spec.renew_before)
        return left.count() <= 0 ? "expired"
                                 : "expires in " + hours_text(std::chrono::duration_cast<pki::Duration>(left)) +
                                       ", within renew-before " + hours_text(spec.renew_before);
    return "";
}

pki::CertificateRequest leaf_request(const Spec& spec, const Leaf& leaf) {
    pki::CertificateRequest r;
    r.cn = leaf.cn;
    r.hosts = leaf.hosts;
    r.key = spec.leaf_key;
    pki::Name n;
    n.O = spec.ca_subject.o;
    n.OU = spec.ca_subject.ou;
    if (!n.O.empty() || !n.OU.empty()) r.names.push_back(n);
    return r;
}

pki::CertificateRequest ca_request(const Spec& spec, const CaKind& kind) {
    pki::CertificateRequest r;
    r.cn = spec.ca_subject.cn + std::string(kind.cn_suffix);
    r.key = spec.ca_key;
    pki::Name n{spec.ca_subject.c, spec.ca_subject.st, spec.ca_subject.l, spec.ca_subject.o, spec.ca_subject.ou, ""};
    if (!(n.C + n.ST + n.L + n.O + n.OU).empty()) r.names.push_back(n);
    pki::CaOptions ca;
    ca.expiry = pki::format_duration(spec.ca_validity);
    r.ca = ca;
    return r;
}

// Generates keys and signs every leaf that needs it, across `threads` workers.
void issue_all(const Spec& spec, std::vector<Leaf*>& jobs, const std::array<CaState, 2>& cas, unsigned threads,
               const std::function<void(size_t, size_t)>& progress, Warnings& warnings) {
    if (jobs.empty()) return;
    std::array<pki::Profile, 2> profiles;  // [server?]
    for (int server = 0; server < 2; ++server) {
        profiles[server].usages = leaf_usages(spec.leaf_key, server == 1);
        profiles[server].expiry = spec.leaf_validity;
    }
    const unsigned n = std::max(1u, std::min<unsigned>(threads, static_cast<unsigned>(jobs.size())));
    std::atomic<size_t> next{0}, done{0};
    std::mutex mutex;
    std::condition_variable cv;
    std::exception_ptr failure;
    std::set<std::string> all_warnings;
    auto work = [&] {
        Warnings local;
        for (size_t i; (i = next.fetch_add(1)) < jobs.size();) {
            Leaf& leaf = *jobs[i];
            try {
                const pki::PrivateKey key = pki::PrivateKey::generate(spec.leaf_key);
                const pki::Issued issued =
                    pki::issue_with_key(leaf_request(spec, leaf), key, *cas[leaf.ca].signer,
                                        profiles[role_info(leaf.role).server_auth ? 1 : 0], {}, local);
                leaf.cert_pem = issued.cert;
                leaf.key_pem = issued.key;
            } catch (...) {
                std::lock_guard lock(mutex);
                if (!failure) failure = std::current_exception();
                next = jobs.size();  // stop handing out work
            }
            done.fetch_add(1);
            cv.notify_one();
        }
        std::lock_guard lock(mutex);
        all_warnings.insert(local.begin(), local.end());
    };
    std::vector<std::jthread> pool;
    for (unsigned t = 0; t < n; ++t) pool.emplace_back(work);
    {
        std::unique_lock lock(mutex);
        // Workers always finish (each job is bounded); the wait only paces progress reports.
        while (
            !cv.wait_for(lock, std::chrono::milliseconds(100), [&] { return done.load() >= jobs.size() || failure; })) {
            if (progress) progress(done.load(), jobs.size());
        }
    }
    pool.clear();  // join
    if (failure) std::rethrow_exception(failure);
    if (progress) progress(jobs.size(), jobs.size());
    warnings.insert(warnings.end(), all_warnings.begin(), all_warnings.end());
}

mode_t mode_of(const fs::path& p) {
    struct stat st {};
    if (::stat(p.c_str(), &st) != 0) return 0;
    return st.st_mode & 07777;
}

}  // namespace

std::string_view action_name(FileAction action) {
    switch (action) {
        case FileAction::Create:
            return "create";
        case FileAction::Update:
            return "update";
        case FileAction::Unchanged:
            return "unchanged";
    }
    return "?";
}

std::string ProvisionResult::to_json() const {
    nlohmann::json j;
    j["changed"] = changed;
    j["certificates_issued"] = certificates_issued;
    j["files"] = nlohmann::json::array();
    for (const auto& f : files) {
        nlohmann::json e{{"path", f.path.string()}, {"action", std::string(action_name(f.action))}};
        if (!f.reason.empty()) e["reason"] = f.reason;
        j["files"].push_back(std::move(e));
    }
    j["warnings"] = warnings;
    return j.dump();
}

std::vector<std::string> node_hosts(const NodeSpec& node) {
    std::vector<std::string> hosts{node.address};
    for (const auto& n : node.names) hosts.push_back(n);
    hosts.push_back(node.name);
    hosts.push_back("127.0.0.1");
    hosts.push_back("::1");
    // Fold duplicates (an address of 127.0.0.1, a name listed twice) so the SAN set is stable.
    std::vector<std::string> out;
    std::set<std::string> seen;
    for (const auto& h : hosts) {
        const std::string key = canonical_ip(h).value_or(h);
        if (seen.insert(key).second) out.push_back(h);
    }
    return out;
}

ProvisionResult provision(const Spec& spec, const fs::path& out, const ProvisionOptions& options) {
    ProvisionResult result;
    const bool single = !options.only_node.empty();
    const std::vector<NodeSpec>& members = single ? options.members : spec.nodes;
    std::vector<const NodeSpec*> nodes;
    for (const auto& m : members)
        if (!single || m.name == options.only_node) nodes.push_back(&m);
    if (single && nodes.empty())
        throw Error(Code::Internal, "add-node: node " + options.only_node + " is not among the members");

    // 1. CAs: reuse what DIR/ca holds, create what is missing.
    std::array<CaState, 2> cas;
    for (const NodeSpec* n : nodes) {
        const NodeFiles f = node_files(spec, *n);
        if (!f.ca_cert.empty()) cas[kClientCa].needed = true;
        if (!f.peer_ca_cert.empty() && f.peer_ca_cert != f.ca_cert) cas[kPeerCa].needed = true;
    }
    if (!single && spec.security->client_tls && !spec.clients.empty()) cas[kClientCa].needed = true;
    for (size_t i = 0; i < cas.size(); ++i) {
        CaState& ca = cas[i];
        if (!ca.needed) continue;
        ca.cert_path = fs::path("ca") / (std::string(kCaKinds[i].file) + ".pem");
        ca.key_path = fs::path("ca") / (std::string(kCaKinds[i].file) + "-key.pem");
        const auto cert = read_if_exists(out / ca.cert_path);
        const auto key = read_if_exists(out / ca.key_path);
        if (cert && key && !options.force_new_ca) {
            ca.signer.emplace(pki::Certificate::from_pem(*cert, (out / ca.cert_path).string()),
                              pki::PrivateKey::from_pem(*key, (out / ca.key_path).string()));
            ca.cert_pem = *cert;
            ca.key_pem = *key;
            const auto left = ca.signer->certificate().not_after() - options.now;
            if (left < spec.renew_before)
                result.warnings.push_back((out / ca.cert_path).string() + ": the CA expires in " +
                                          hours_text(std::chrono::duration_cast<pki::Duration>(left)) +
                                          "; replace it with --force-new-ca (every certificate is reissued)");
            const pki::KeyRequest k = ca.signer->key().describe();
            if (k.algo != spec.ca_key.algo || k.size != spec.ca_key.size)
                result.warnings.push_back((out / ca.key_path).string() + ": the existing CA key is " + describe_key(k) +
                                          ", the spec asks for " + describe_key(spec.ca_key) +
                                          "; kept (pass --force-new-ca to replace it)");
            continue;
        }
        if (cert && !key && !options.force_new_ca)
            throw Error(Code::FileReadFailed,
                        located((out / ca.key_path).string(), "missing, but its CA certificate " +
                                                                  (out / ca.cert_path).string() +
                                                                  " exists; restore the key or pass --force-new-ca"));
        if (key && !cert && !options.force_new_ca)
            throw Error(Code::FileReadFailed,
                        located((out / ca.cert_path).string(),
                                "missing, but its CA key exists; restore it or pass --force-new-ca"));
        if (single) {
            throw Error(Code::FileReadFailed,
                        located((out / ca.cert_path).string(),
                                "add-node needs the cluster's CA; run `cluster-config provision` first"));
        }
        ca.why_new = cert ? "--force-new-ca" : "new CA";
        if (!options.check) {
            Warnings w;
            const pki::Issued issued = pki::init_ca(ca_request(spec, kCaKinds[i]), w);
            ca.cert_pem = issued.cert;
            ca.key_pem = issued.key;
            ca.signer.emplace(pki::Certificate::from_pem(issued.cert, "new CA"),
                              pki::PrivateKey::from_pem(issued.key, "new CA"));
            result.warnings.insert(result.warnings.end(), w.begin(), w.end());
        }
    }

    // 2. Leaves: what each node and client needs; keep those that still fit.
    std::vector<Leaf> leaves;
    for (const NodeSpec* n : nodes) {
        const NodeFiles f = node_files(spec, *n);
        const fs::path dir = n->name;
        if (!f.cert.empty())
            leaves.push_back({Role::Server, kClientCa, dir / f.cert, dir / f.key, n->name, node_hosts(*n), {}, {}, {}});
        if (!f.peer_cert.empty() && f.peer_cert != f.cert)
            leaves.push_back(
                {Role::Peer, kPeerCa, dir / f.peer_cert, dir / f.peer_key, n->name, node_hosts(*n), {}, {}, {}});
        if (!f.client_cert.empty())
            leaves.push_back(
                {Role::NodeClient, kClientCa, dir / f.client_cert, dir / f.client_key, n->name, {}, {}, {}, {}});
    }
    if (!single && spec.security->client_tls) {
        for (const auto& c : spec.clients) {
            const ClientFiles f = client_files(c);
            const fs::path dir = fs::path("clients") / c.name;
            leaves.push_back({Role::Client, kClientCa, dir / f.cert, dir / f.key, c.name, {}, {}, {}, {}});
        }
    }
    std::vector<Leaf*> jobs;
    for (auto& leaf : leaves) {
        const CaState& ca = cas[leaf.ca];
        const auto cert = read_if_exists(out / leaf.cert_path);
        const auto key = read_if_exists(out / leaf.key_path);
        if (!ca.why_new.empty())
            leaf.why = ca.why_new;
        else if (!cert || !key)
            leaf.why = "new " + std::string(role_info(leaf.role).what);
        else
            leaf.why = reissue_reason(leaf, *cert, *key, ca, spec, options.now);
        if (leaf.why.empty()) {
            leaf.cert_pem = *cert;
            leaf.key_pem = *key;
        } else {
            jobs.push_back(&leaf);
        }
    }
    result.certificates_issued = jobs.size();
    if (!options.check) {
        const unsigned threads = options.threads ? options.threads : std::max(1u, std::thread::hardware_concurrency());
        issue_all(spec, jobs, cas, threads, options.progress, result.warnings);
    }

    // 3. Every file, compared with what is there.
    struct Want {
        std::string content;
        mode_t mode;
        std::string reason;
        bool known;  // content is known (false in --check for certs not issued yet)
    };
    std::map<fs::path, Want> want;
    auto put = [&](const fs::path& p, const std::string& content, mode_t mode, const std::string& reason,
                   bool known = true) {
        want[p] = Want{content, mode, reason, known};
    };
    for (size_t i = 0; i < cas.size(); ++i) {
        const CaState& ca = cas[i];
        if (!ca.needed) continue;
        put(ca.cert_path, ca.cert_pem, kPublicMode, ca.why_new, ca.why_new.empty() || !options.check);
        put(ca.key_path, ca.key_pem, kSecretMode, ca.why_new, ca.why_new.empty() || !options.check);
    }
    for (const auto& leaf : leaves) {
        const bool known = leaf.why.empty() || !options.check;
        put(leaf.cert_path, leaf.cert_pem, kPublicMode, leaf.why, known);
        put(leaf.key_path, leaf.key_pem, kSecretMode, leaf.why, known);
    }
    auto copy_ca = [&](const fs::path& dest, int index) {
        const CaState& ca = cas[index];
        put(dest, ca.cert_pem, kPublicMode, ca.why_new, ca.why_new.empty() || !options.check);
    };
    RenderOptions render = options.render;
    render.joining = single || render.joining;
    for (const NodeSpec* n : nodes) {
        const NodeFiles f = node_files(spec, *n);
        if (!f.ca_cert.empty()) copy_ca(fs::path(n->name) / f.ca_cert, kClientCa);
        if (!f.peer_ca_cert.empty() && f.peer_ca_cert != f.ca_cert)
            copy_ca(fs::path(n->name) / f.peer_ca_cert, kPeerCa);
        for (auto& r : render_node(spec, *n, members, render)) put(r.path, r.content, r.mode, "");
    }
    if (!single && spec.security->client_tls)
        for (const auto& c : spec.clients) copy_ca(fs::path("clients") / c.name / client_files(c).ca_cert, kClientCa);

    FileSet set;
    for (const auto& [path, w] : want) {
        const fs::path full = out / path;
        const auto have = read_if_exists(full);
        FileAction action = FileAction::Unchanged;
        std::string reason = w.reason;
        if (!have) {
            action = FileAction::Create;
        } else if (!w.known || *have != w.content) {
            action = FileAction::Update;
            if (reason.empty()) reason = "content differs";
        } else if (mode_of(full) != w.mode) {
            action = FileAction::Update;
            reason = "mode is not " + std::string(w.mode == kSecretMode ? "0600" : "0644");
        } else {
            reason.clear();
        }
        if (action != FileAction::Unchanged) {
            result.changed = true;
            if (!options.check) set.add(full, w.content, w.mode);
        }
        result.files.push_back({path, action, reason});
    }

    // Anything in a node's folder this spec did not write may be stale, or worse, a CA key.
    for (const NodeSpec* n : nodes) {
        std::error_code ec;
        for (const auto& entry : fs::directory_iterator(out / n->name, ec)) {
            const fs::path rel = fs::path(n->name) / entry.path().filename();
            if (want.contains(rel) || entry.path().filename().string().starts_with('.')) continue;
            const bool ca_key = entry.path().filename().string().find("ca-key") != std::string::npos;
            result.warnings.push_back((out / rel).string() +
                                      (ca_key ? ": a CA key in a node's folder; delete it, CA keys belong in " +
                                                    (out / "ca").string() + " only"
                                              : ": not written by this spec; remove it if it is stale"));
        }
    }

    if (!options.check && !set.empty()) {
        if (cas[kClientCa].needed || cas[kPeerCa].needed) {
            std::error_code ec;
            fs::create_directories(out / "ca", ec);
            ::chmod((out / "ca").c_str(), 0700);  // CA keys are 0600; the folder says so too
        }
        set.commit(true);
    }
    return result;
}

}  // namespace trellis::cluster
