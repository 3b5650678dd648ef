#include "cluster/backend_config.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <optional>

#include "cluster/tls_policy.hpp"
#include "core/duration.hpp"
#include "core/flat_yaml.hpp"
#include "core/strict_json.hpp"
#include "core/text.hpp"
#include "core/url.hpp"

namespace trellis::cluster {
namespace {

using enum KeyType;

// The single source of truth for backend.yml. Order: the backend's own keys, then the etcd store keys
// in the order the guide lists them, then etcd's TLS, then tuning.
constexpr auto kKeys = std::to_array<BackendKey>({
    {Key::StateDir, "state-dir", "", Path, "/var/lib/trellis",
     "directory of the backend's state; the embedded etcd keeps its data in <state-dir>/etcd (etcd --data-dir)"},
    {Key::LogLevel, "log-level", "", String, "info",
     "backend log level: debug, info (start-up facts, membership and leader changes), warn or error"},
    {Key::LogFormat, "log-format", "", String, "text",
     "text (one line per event) or json (one object per line; etcd's own JSON lines passed through)"},
    {Key::ApiListenAddress, "api-listen-address", "", HostPort, "[::]:8080",
     "host:port the backend's HTTPS API listens on"},
    {Key::ApiUrl, "api-url", "", ApiUrl, "",
     "URL other nodes and trellisctl use to reach this backend's API (default: derived from api-listen-address)"},
    {Key::CertFile, "cert-file", "", Path, "", "the backend API's TLS certificate (not an etcd flag)"},
    {Key::KeyFile, "key-file", "", Path, "", "the backend API's TLS private key (not an etcd flag)"},
    {Key::TrustedCaFile, "trusted-ca-file", "", Path, "",
     "CA that API clients' certificates must chain to; when set, the API requires a client certificate (not an etcd "
     "flag)"},
    {Key::CrlFile, "crl-file", "", Path, "",
     "CRL (PEM or DER) of trusted-ca-file's CA: API clients whose certificates it lists are refused; re-read when "
     "it changes, like cert-file and key-file (not an etcd flag)"},
    {Key::ApiInsecure, "api-insecure", "", Bool, "false",
     "serve the API as plain HTTP, without cert-file/key-file: anyone who reaches api-listen-address can change "
     "cluster membership; only for a network nobody else reaches (not an etcd flag)"},
    {Key::ApiTlsMinVersion, "api-tls-min-version", "", String, "1.2",
     "lowest TLS version the API accepts: 1.2 or 1.3 (etcd 3.4's ports accept 1.2 and 1.3)"},
    {Key::ApiMaxConnections, "api-max-connections", "", Int, "1024",
     "connections the API holds at once (fewer if the open-file limit is lower); beyond it a new one is closed"},
    {Key::ApiMaxConnectionsPerAddress, "api-max-connections-per-address", "", Int, "64",
     "connections the API holds at once from one client address; behind a load balancer that passes TLS "
     "through, every client shares its address: raise this, or cap the balancer's per-server maxconn below it"},
    {Key::SnapshotInterval, "snapshot-interval", "", Duration, "",
     "take a snapshot of the store this often (e.g. 1h; only the leader takes it, one member at a time); "
     "empty: no scheduled snapshots"},
    {Key::SnapshotDir, "snapshot-dir", "", Path, "",
     "directory for scheduled snapshots (default: <state-dir>/snapshots), mode 0700"},
    {Key::SnapshotRetain, "snapshot-retain", "", Int, "24",
     "how many scheduled snapshots to keep in snapshot-dir; older ones are deleted"},
    {Key::NoEmbedEtcd, "no-embed-etcd", "", Bool, "false",
     "do not run an embedded etcd; use the external store at etcd-client-urls"},
    {Key::EtcdClientUrls, "etcd-client-urls", "", ClientUrls, "",
     "client URLs of the external etcd cluster used with no-embed-etcd (the guide puts them in "
     "etcd-listen-client-urls)"},
    {Key::EtcdAdvertiseClientUrls, "etcd-advertise-client-urls", "--advertise-client-urls", ClientUrls,
     "http://127.0.0.1:2379", "client URLs this member advertises to the rest of the cluster and to clients"},
    {Key::EtcdListenClientUrls, "etcd-listen-client-urls", "--listen-client-urls", ListenUrls, "http://127.0.0.1:2379",
     "URLs this member listens on for client traffic"},
    {Key::EtcdListenPeerUrls, "etcd-listen-peer-urls", "--listen-peer-urls", ListenUrls, "http://127.0.0.1:2380",
     "URLs this member listens on for peer (raft) traffic"},
    {Key::EtcdInitialCluster, "etcd-initial-cluster", "--initial-cluster", StringList, "default=http://127.0.0.1:2380",
     "every initial member as name=peer-url, comma-separated; must name this member"},
    {Key::EtcdInitialAdvertisePeerUrls, "etcd-initial-advertise-peer-urls", "--initial-advertise-peer-urls", PeerUrls,
     "http://127.0.0.1:2380", "peer URLs this member advertises; must match its entry in etcd-initial-cluster"},
    {Key::EtcdInitialClusterState, "etcd-initial-cluster-state", "--initial-cluster-state", String, "new",
     "new when bootstrapping the cluster, existing when joining one"},
    {Key::EtcdInitialClusterToken, "etcd-initial-cluster-token", "--initial-cluster-token", String, "",
     "token unique to this cluster, so members of two clusters never join each other; must not be empty"},
    {Key::EtcdName, "etcd-name", "--name", String, "default", "this member's name; must be unique in the cluster"},
    {Key::EtcdCertFile, "etcd-cert-file", "--cert-file", Path, "",
     "the node's SERVER certificate on the client port; it needs serverAuth and clientAuth (etcd's gateway dials "
     "back with it) and is also the backend's client cert unless etcd-client-cert-file is set"},
    {Key::EtcdKeyFile, "etcd-key-file", "--key-file", Path, "", "private key of etcd-cert-file"},
    {Key::EtcdTrustedCaFile, "etcd-trusted-ca-file", "--trusted-ca-file", Path, "",
     "CA for the client port: etcd requires client certs signed by it; the backend verifies etcd's server cert with "
     "it"},
    {Key::EtcdClientCertAuth, "etcd-client-cert-auth", "--client-cert-auth", Bool, "false",
     "require client certificates on the client port (etcd 3.4 already does when etcd-trusted-ca-file is set)"},
    {Key::EtcdClientCertFile, "etcd-client-cert-file", "", Path, "",
     "the backend's own client certificate towards etcd (default: etcd-cert-file); not an etcd flag"},
    {Key::EtcdClientKeyFile, "etcd-client-key-file", "", Path, "",
     "private key of etcd-client-cert-file (default: etcd-key-file)"},
    {Key::EtcdClientTrustedCaFile, "etcd-client-trusted-ca-file", "", Path, "",
     "CA the backend verifies etcd's server certificate with (default: etcd-trusted-ca-file); not an etcd flag. "
     "Needed when etcd serves TLS without client-cert auth, where etcd itself must get no trusted CA"},
    {Key::EtcdClientCrlFile, "etcd-client-crl-file", "--client-crl-file", Path, "",
     "CRL (PEM) of etcd-trusted-ca-file's CA: etcd re-reads it on every new client connection and closes those "
     "whose certificate it lists (cluster-config revoke writes it)"},
    {Key::EtcdPeerCertFile, "etcd-peer-cert-file", "--peer-cert-file", Path, "",
     "the node's peer certificate: serverAuth and clientAuth, SANs covering its peer address and 127.0.0.1"},
    {Key::EtcdPeerKeyFile, "etcd-peer-key-file", "--peer-key-file", Path, "", "private key of etcd-peer-cert-file"},
    {Key::EtcdPeerTrustedCaFile, "etcd-peer-trusted-ca-file", "--peer-trusted-ca-file", Path, "",
     "CA that peers' certificates must chain to (trellis uses a separate peer CA by default)"},
    {Key::EtcdPeerClientCertAuth, "etcd-peer-client-cert-auth", "--peer-client-cert-auth", Bool, "false",
     "require peers to present a certificate signed by etcd-peer-trusted-ca-file"},
    {Key::EtcdPeerCrlFile, "etcd-peer-crl-file", "--peer-crl-file", Path, "",
     "CRL (PEM) of etcd-peer-trusted-ca-file's CA: etcd re-reads it on every new peer connection and closes those "
     "whose certificate it lists (cluster-config revoke writes it)"},
    {Key::EtcdCipherSuites, "etcd-cipher-suites", "--cipher-suites", StringList, kStrongCipherSuites,
     "TLS 1.2 cipher suites (Go names) of etcd's client and peer ports and of the API; default: ECDHE with AES-GCM "
     "or ChaCha20-Poly1305 only (docs/backend.md)"},
    {Key::EtcdHeartbeatInterval, "etcd-heartbeat-interval", "--heartbeat-interval", Int, "100",
     "raft heartbeat interval in milliseconds"},
    {Key::EtcdElectionTimeout, "etcd-election-timeout", "--election-timeout", Int, "1000",
     "raft election timeout in milliseconds"},
    {Key::EtcdQuotaBackendBytes, "etcd-quota-backend-bytes", "--quota-backend-bytes", Int, "4294967296",
     "size limit of the etcd database in bytes before it raises a NOSPACE alarm"},
    {Key::EtcdMaxRequestBytes, "etcd-max-request-bytes", "--max-request-bytes", Int, "1572864",
     "largest request etcd accepts, in bytes"},
    {Key::EtcdLogLevel, "etcd-log-level", "--log-level", String, "warn",
     "embedded etcd's log level: debug, info, warn or error"},
    {Key::EtcdLogger, "etcd-logger", "--logger", String, "zap", "embedded etcd's logger (zap; capnslog is deprecated)"},
});

// The enum and the table must list the keys in the same order: backend_key(Key) indexes the table.
constexpr bool table_matches_enum() {
    for (std::size_t i = 0; i < kKeys.size(); ++i)
        if (static_cast<std::size_t>(kKeys[i].id) != i) return false;
    return true;
}
static_assert(table_matches_enum(), "kKeys must list the keys in the order of enum class Key");

[[noreturn]] void fail(const Origin& origin, std::string_view key, const std::string& why) {
    throw Error(Code::ConfigInvalid, origin.to_string() + ": " + std::string(key) + ": " + why);
}

bool is_bool(std::string_view v) { return v == "true" || v == "false"; }

bool is_int(std::string_view v) {
    long long out = 0;
    const auto* end = v.data() + v.size();
    auto [p, ec] = std::from_chars(v.data(), end, out);
    return !v.empty() && ec == std::errc() && p == end && out >= 0;
}

std::string url_problem(std::string_view value, UrlKind kind) {
    std::string why;
    if (!try_parse_url(value, kind, &why)) return "\"" + std::string(value) + "\" is not a URL: " + why;
    return "";
}

// Why `value` does not fit `type` ("" when it does).
std::string type_problem(KeyType type, std::string_view value) {
    switch (type) {
        case Bool:
            return is_bool(value) ? "" : "expected true or false, got \"" + std::string(value) + "\"";
        case Int:
            return is_int(value) ? "" : "expected a non-negative integer, got \"" + std::string(value) + "\"";
        case Duration:
            return parse_go_duration(value)
                       ? ""
                       : "expected a duration like 5s or 1m30s, got \"" + std::string(value) + "\"";
        case ListenUrls:
            return url_problem(value, UrlKind::Listen);
        case PeerUrls:
            return url_problem(value, UrlKind::Peer);
        case ClientUrls:
            return url_problem(value, UrlKind::Client);
        case ApiUrl:
            return value.empty() ? "" : url_problem(value, UrlKind::Api);  // empty: derived
        case HostPort: {
            std::string why;
            if (!try_parse_host_port(value, &why)) return "\"" + std::string(value) + "\" is not host:port: " + why;
            return "";
        }
        case String:
        case Path:
        case StringList:
            return "";
    }
    return "";
}

std::vector<std::string> key_names() {
    std::vector<std::string> out;
    for (const auto& k : kKeys) out.emplace_back(k.key);
    return out;
}

std::string unknown_key_message(std::string_view key) {
    std::string why = "unknown key \"" + std::string(key) + "\"";
    if (auto guess = closest_match(key, key_names())) why += " (did you mean \"" + *guess + "\"?)";
    return why;
}

// Every combination of cert-file, key-file and api-insecure: how the API is served, or why it cannot be.
struct ApiRule {
    bool cert, key, insecure;
    std::optional<ApiTransport> transport;
    std::string_view why;  // when there is no transport: what to set
};
constexpr std::array<ApiRule, 8> kApiRules{{
    {true, true, false, ApiTransport::Https, ""},
    {false, false, true, ApiTransport::Http, ""},
    {false, false, false, std::nullopt,
     "the backend API would be plain HTTP, open to anyone who reaches it: set cert-file and key-file (and "
     "trusted-ca-file to require client certificates), or api-insecure: true to serve plain HTTP on purpose"},
    {true, false, false, std::nullopt, "cert-file is set but key-file is not: set key-file to its private key"},
    {false, true, false, std::nullopt, "key-file is set but cert-file is not: set cert-file to its certificate"},
    {true, true, true, std::nullopt,
     "api-insecure is true but cert-file and key-file are set: remove api-insecure to serve HTTPS"},
    {true, false, true, std::nullopt, "api-insecure is true but cert-file is set: remove one of them"},
    {false, true, true, std::nullopt, "api-insecure is true but key-file is set: remove one of them"},
}};

}  // namespace

ApiTransportCheck check_api_transport(const BackendConfig& config) {
    const auto set = [&](Key key) { return config.has(key) && !config.get(key).empty(); };
    const bool cert = set(Key::CertFile), key = set(Key::KeyFile), insecure = config.get_bool(Key::ApiInsecure);
    for (const auto& rule : kApiRules) {
        if (rule.cert != cert || rule.key != key || rule.insecure != insecure) continue;
        if (rule.transport) return {rule.transport, {}, {}};
        // Name the setting the problem starts from, if any was set.
        for (const auto& [k, on] : std::array<std::pair<Key, bool>, 3>{
                 {{Key::ApiInsecure, insecure}, {Key::CertFile, cert}, {Key::KeyFile, key}}})
            if (on && config.find(k)) return {std::nullopt, std::string(rule.why), k};
        return {std::nullopt, std::string(rule.why), {}};
    }
    throw Error(Code::Internal, "api_transport: no rule for this combination");
}

namespace {
// Where `key`'s value came from, for a message: its origin, else the file (or "backend configuration").
std::string where_set(const BackendConfig& config, std::optional<Key> key) {
    const Setting* s = key ? config.find(*key) : nullptr;
    return s ? s->origin.to_string() : (config.source().empty() ? "backend configuration" : config.source());
}
}  // namespace

ApiTransport api_transport(const BackendConfig& config) {
    const ApiTransportCheck check = check_api_transport(config);
    if (check.transport) return *check.transport;
    throw Error(Code::ConfigInvalid, where_set(config, check.key) + ": " + check.problem);
}

bool is_list(KeyType type) {
    return type == ListenUrls || type == PeerUrls || type == ClientUrls || type == StringList;
}

std::span<const BackendKey> backend_keys() { return kKeys; }

const BackendKey* find_backend_key(std::string_view key) {
    for (const auto& k : kKeys)
        if (k.key == key) return &k;
    return nullptr;
}

const BackendKey& backend_key(Key key) { return kKeys.at(static_cast<std::size_t>(key)); }

std::string_view key_name(Key key) { return backend_key(key).key; }

std::string_view type_name(KeyType type) {
    static constexpr std::array<std::pair<KeyType, std::string_view>, 11> names{{
        {String, "string"},
        {Bool, "bool"},
        {Int, "int"},
        {ListenUrls, "url-list"},
        {PeerUrls, "url-list"},
        {ClientUrls, "url-list"},
        {ApiUrl, "url"},
        {HostPort, "host:port"},
        {Path, "path"},
        {Duration, "duration"},
        {StringList, "list"},
    }};
    for (const auto& [t, n] : names)
        if (t == type) return n;
    return "?";
}

std::string Origin::to_string() const {
    if (line > 0) return source + ":" + std::to_string(line);
    return source;
}

std::string environment_variable(std::string_view key) {
    std::string out = "TRELLIS_BACKEND_";
    for (char c : key) out += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return out;
}

BackendConfig BackendConfig::from_yaml(std::string_view text, std::string_view source) {
    BackendConfig config;
    config.source_ = std::string(source);
    for (auto& e : read_flat_yaml(text, source, "key: value, as in the guide's backend.yml")) {
        const Origin origin{std::string(source), e.line};
        const BackendKey* info = find_backend_key(e.key);
        if (info == nullptr) throw Error(Code::ConfigInvalid, origin.to_string() + ": " + unknown_key_message(e.key));
        if (e.list && !is_list(info->type))
            fail(origin, e.key, std::string("expected a ") + std::string(type_name(info->type)) + " value");
        std::vector<std::string> values;
        for (const auto& v : e.values)
            for (auto& part : is_list(info->type) ? split_list(v) : std::vector<std::string>{v})
                values.push_back(std::move(part));
        if (values.empty() && !e.list) values.emplace_back();  // `key:` with nothing after it
        config.set(e.key, values, origin);
    }
    return config;
}

void BackendConfig::set(std::string_view key, const std::vector<std::string>& values, Origin origin) {
    const BackendKey* info = find_backend_key(key);
    if (info == nullptr) throw Error(Code::ConfigInvalid, origin.to_string() + ": " + unknown_key_message(key));
    if (!is_list(info->type) && values.size() != 1)
        fail(origin, key,
             "expected one " + std::string(type_name(info->type)) + " value, got " + std::to_string(values.size()));
    for (const auto& v : values)
        if (auto why = type_problem(info->type, v); !why.empty()) fail(origin, key, why);
    settings_[std::string(key)] = Setting{std::string(key), values, std::move(origin)};
}

void BackendConfig::set(Key key, const std::vector<std::string>& values, Origin origin) {
    set(key_name(key), values, std::move(origin));
}

void BackendConfig::apply_environment() {
    for (const auto& k : kKeys) {
        const std::string name = environment_variable(k.key);
        const char* value = std::getenv(name.c_str());
        if (value == nullptr) continue;
        std::vector<std::string> values = is_list(k.type) ? split_list(value) : std::vector<std::string>{value};
        set(k.id, values, Origin{"env " + name, 0});
    }
}

bool BackendConfig::has(Key key) const { return find(key) != nullptr; }

const Setting* BackendConfig::find(Key key) const {
    auto it = settings_.find(key_name(key));
    return it == settings_.end() ? nullptr : &it->second;
}

std::filesystem::path BackendConfig::base_dir() const {
    if (source_.empty()) return {};
    return std::filesystem::path(source_).parent_path();
}

std::string BackendConfig::resolve_path(std::string_view value, const Origin& origin) const {
    const std::filesystem::path p(value);
    if (value.empty() || p.is_absolute() || origin.line == 0 || origin.source != source_) return std::string(value);
    return (base_dir() / p).lexically_normal().string();
}

std::string BackendConfig::get(Key key) const {
    const BackendKey& info = backend_key(key);
    const Setting* s = find(key);
    if (s == nullptr) return std::string(info.default_value);
    if (is_list(info.type)) return join(s->values, ",");
    if (info.type == Path) return resolve_path(s->values.front(), s->origin);
    return s->values.front();
}

bool BackendConfig::get_bool(Key key) const {
    const std::string v = get(key);
    if (!is_bool(v))
        throw Error(Code::ConfigInvalid, std::string(key_name(key)) + ": expected true or false, got \"" + v + "\"");
    return v == "true";
}

long long BackendConfig::get_int(Key key) const {
    const std::string v = get(key);
    if (!is_int(v))
        throw Error(Code::ConfigInvalid,
                    std::string(key_name(key)) + ": expected a non-negative integer, got \"" + v + "\"");
    return std::stoll(v);
}

long long BackendConfig::get_int(Key key, long long minimum) const {
    const long long n = get_int(key);
    if (n >= minimum) return n;
    throw Error(Code::ConfigInvalid, where_set(*this, key) + ": " + std::string(key_name(key)) + ": must be at least " +
                                         std::to_string(minimum) + ", got " + std::to_string(n));
}

std::vector<std::string> BackendConfig::get_list(Key key) const {
    if (const Setting* s = find(key)) return s->values;
    return split_list(backend_key(key).default_value);
}

std::vector<std::string> BackendConfig::etcd_arguments() const {
    std::vector<std::string> args;
    for (const auto& k : kKeys) {
        if (k.etcd_flag.empty()) continue;
        if (!has(k.id) && k.default_value.empty()) continue;
        std::string value = get(k.id);
        // An empty optional value (a TLS file left blank) means "not set" to etcd as well.
        if (value.empty() && k.type != String) continue;
        args.push_back(std::string(k.etcd_flag) + "=" + value);
    }
    args.push_back("--data-dir=" + (std::filesystem::path(get(Key::StateDir)) / "etcd").string());
    return args;
}

std::string BackendConfig::etcd_client_cert_file() const {
    return has(Key::EtcdClientCertFile) ? get(Key::EtcdClientCertFile) : get(Key::EtcdCertFile);
}

std::string BackendConfig::etcd_client_key_file() const {
    return has(Key::EtcdClientKeyFile) ? get(Key::EtcdClientKeyFile) : get(Key::EtcdKeyFile);
}
std::string BackendConfig::etcd_client_trusted_ca_file() const {
    return has(Key::EtcdClientTrustedCaFile) ? get(Key::EtcdClientTrustedCaFile) : get(Key::EtcdTrustedCaFile);
}

std::vector<std::string> BackendConfig::store_endpoints() const {
    if (get_bool(Key::NoEmbedEtcd))
        return has(Key::EtcdClientUrls) ? get_list(Key::EtcdClientUrls) : get_list(Key::EtcdListenClientUrls);
    return get_list(Key::EtcdAdvertiseClientUrls);
}

}  // namespace trellis::cluster
