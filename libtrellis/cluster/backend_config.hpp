// The backend.yml schema: one table of every key trellis-backend understands,
// which etcd flag (if any) it becomes, its type and default, and a loader that
// keeps where each value came from (file:line, environment, flag) for errors
// and lint findings. Used by cluster-config (render, lint) and trellis-backend.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace trellis::cluster {

// The URL list types are core's URL kinds (core/url.hpp), so each list is checked with etcd's rule for it
// when it is loaded. StringList: a list that is not URLs (cipher suites); same spelling rules.
// HostPort: "host:port" with a required port (api-listen-address); ApiUrl: one URL of the backend API.
enum class KeyType {
    String,
    Bool,
    Int,
    ListenUrls,
    PeerUrls,
    ClientUrls,
    ApiUrl,
    HostPort,
    Path,
    Duration,
    StringList
};
// Whether a key of this type holds a list (YAML list, or comma/space separated).
bool is_list(KeyType type);

// Every backend.yml key, in table order: code names keys through this enum, so a misspelt key fails to
// compile instead of becoming a user's error at run time. Strings are only for what users type.
enum class Key : std::uint8_t {
    StateDir,
    LogLevel,
    LogFormat,
    ApiListenAddress,
    ApiUrl,
    CertFile,
    KeyFile,
    TrustedCaFile,
    CrlFile,
    ApiInsecure,
    ApiTlsMinVersion,
    ApiMaxConnections,
    ApiMaxConnectionsPerAddress,
    SnapshotInterval,
    SnapshotDir,
    SnapshotRetain,
    NoEmbedEtcd,
    EtcdClientUrls,
    EtcdAdvertiseClientUrls,
    EtcdListenClientUrls,
    EtcdListenPeerUrls,
    EtcdInitialCluster,
    EtcdInitialAdvertisePeerUrls,
    EtcdInitialClusterState,
    EtcdInitialClusterToken,
    EtcdName,
    EtcdCertFile,
    EtcdKeyFile,
    EtcdTrustedCaFile,
    EtcdClientCertAuth,
    EtcdClientCertFile,
    EtcdClientKeyFile,
    EtcdClientTrustedCaFile,
    EtcdClientCrlFile,
    EtcdPeerCertFile,
    EtcdPeerKeyFile,
    EtcdPeerTrustedCaFile,
    EtcdPeerClientCertAuth,
    EtcdPeerCrlFile,
    EtcdCipherSuites,
    EtcdHeartbeatInterval,
    EtcdElectionTimeout,
    EtcdQuotaBackendBytes,
    EtcdMaxRequestBytes,
    EtcdLogLevel,
    EtcdLogger
};

struct BackendKey {
    Key id;
    std::string_view key;        // "etcd-listen-client-urls"
    std::string_view etcd_flag;  // "--listen-client-urls"; empty if the key is the backend's own
    KeyType type;
    std::string_view default_value;  // as it would be written in YAML; empty: no default
    std::string_view help;           // one line for --help and docs
};

// Every key, in the order docs and rendered files list them.
std::span<const BackendKey> backend_keys();
// A key by what a user typed (nullptr when unknown), or by its enum.
const BackendKey* find_backend_key(std::string_view key);
const BackendKey& backend_key(Key key);
// "etcd-name" for Key::EtcdName: for messages and rendered files.
std::string_view key_name(Key key);
// "url-list", "bool", ... as docs and messages spell a type.
std::string_view type_name(KeyType type);

// Where a value came from, for messages: "backend.yml:12", "env TRELLIS_BACKEND_ETCD_NAME", "flag --etcd-name".
struct Origin {
    std::string source;
    int line = 0;  // 0 when not from a file
    std::string to_string() const;
};

struct Setting {
    std::string key;
    std::vector<std::string> values;  // one for scalars; URL lists split on YAML list, comma or space
    Origin origin;
};

class BackendConfig {
  public:
    // Parses backend.yml strictly: unknown keys are Code::ConfigInvalid naming file:line and the closest key.
    // Values are checked against their key's type here, so a bad value fails at load with its line.
    // `source` is the file's path: relative paths in the file resolve against its directory.
    static BackendConfig from_yaml(std::string_view text, std::string_view source);

    // Later layers win: call set() for env, then flags, after from_yaml (flag > env > file > default).
    // Unknown keys and values that do not fit the key's type are Code::ConfigInvalid naming `origin`.
    void set(std::string_view key, const std::vector<std::string>& values, Origin origin);
    // The environment layer: every key K read from TRELLIS_BACKEND_<K upper-cased, '-' -> '_'> if set.
    void apply_environment();

    void set(Key key, const std::vector<std::string>& values, Origin origin);

    bool has(Key key) const;  // explicitly set (not just defaulted)
    const Setting* find(Key key) const;
    // Value or the table's default; Code::ConfigInvalid if the value does not fit the key's type.
    // Path keys come back resolved: a relative path from the file is taken relative to the file's
    // directory (so a node folder works wherever it is copied); from env/flags, relative to the cwd.
    // Lists come back comma-joined.
    std::string get(Key key) const;
    bool get_bool(Key key) const;
    long long get_int(Key key) const;
    // The same, refused (Code::ConfigInvalid naming where it was set) below `minimum`.
    long long get_int(Key key, long long minimum) const;
    std::vector<std::string> get_list(Key key) const;

    // The embedded etcd's command line, from the table: every etcd key that is set or has a default
    // as "--flag=value" (bools true/false, lists comma-joined, paths resolved), plus
    // --data-dir=<state-dir>/etcd.
    std::vector<std::string> etcd_arguments() const;

    // The file the config was read from ("" when built by set() only) and its directory.
    const std::string& source() const { return source_; }
    std::filesystem::path base_dir() const;
    // `value` (a path as written in this config by `origin`) resolved as get() resolves Path keys.
    std::string resolve_path(std::string_view value, const Origin& origin) const;

    // The backend's own client identity towards etcd: etcd-client-cert-file/-key-file, falling back
    // to etcd-cert-file/-key-file (the node's server cert, which carries clientAuth). "" if neither.
    std::string etcd_client_cert_file() const;
    std::string etcd_client_key_file() const;
    std::string etcd_client_trusted_ca_file() const;  // etcd-client-trusted-ca-file, else etcd-trusted-ca-file
    // Where the backend reaches its store: with no-embed-etcd, etcd-client-urls (falling back to
    // etcd-listen-client-urls, as the guide writes it); else its own etcd-advertise-client-urls.
    std::vector<std::string> store_endpoints() const;

    const std::map<std::string, Setting, std::less<>>& settings() const { return settings_; }

  private:
    std::map<std::string, Setting, std::less<>> settings_;
    std::string source_;
};

// How the backend API is served. Plain HTTP lets anyone who reaches it change cluster membership, so it
// must be asked for (api-insecure: true); TLS needs both cert-file and key-file.
enum class ApiTransport { Https, Http };
// Decided from cert-file, key-file and api-insecure; Code::ConfigInvalid, in one line naming where the
// setting came from and the keys to set, when they leave it undecided or contradict each other.
ApiTransport api_transport(const BackendConfig& config);

// The same decision without throwing, for lint: the transport, or the problem and the key it starts from.
struct ApiTransportCheck {
    std::optional<ApiTransport> transport;
    std::string problem;     // what to set, when there is no transport
    std::optional<Key> key;  // the setting the problem starts from; none when no key was set at all
};
ApiTransportCheck check_api_transport(const BackendConfig& config);

// "TRELLIS_BACKEND_ETCD_NAME" for "etcd-name".
std::string environment_variable(std::string_view key);

}  // namespace trellis::cluster
