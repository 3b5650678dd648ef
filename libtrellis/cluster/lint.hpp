// Lint of node configurations and the certificates and keys they name: finds
// what would make a node refuse to start (or start insecurely) before it does.
// Used by `cluster-config lint` and by trellis-backend's preflight.
#pragma once

#include <chrono>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/backend_config.hpp"
#include "core/file_stamp.hpp"

namespace trellis::cluster {

enum class Severity { Error, Warning };

// Every kind of problem lint knows, numbered as its stable code (L101 is 101): code names findings
// through this enum, so a misspelt one fails to compile.
enum class Lint : int {
    SchemeMismatch = 101,
    TlsFilesOnHttp = 102,
    HttpsWithoutCert = 103,
    SanMismatch = 104,
    EkuMissing = 105,
    KeyMismatch = 106,
    ChainInvalid = 107,
    CertExpired = 108,
    CertExpiring = 109,
    InitialClusterSelf = 110,
    InitialClusterDiffers = 111,
    DuplicateName = 112,
    DuplicateUrl = 113,
    EmptyToken = 114,
    KeyPermissions = 115,
    FileUnreadable = 116,
    InvalidValue = 117,
    MissingProfile = 118,
    TrustedCaEnforcesClientCerts = 119,
    SharedPeerCa = 120,
    NoClientAuth = 121,
    AdvertiseWildcard = 122,
    CaKeyInNodeFolder = 123,
    TokenDiffers = 124,
    PolicyInvalid = 125,
    LoopbackPeerSan = 126,
    NotACa = 127,
    ApiInsecureWithTls = 128,
    MeaninglessSan = 129,
    ApiTransport = 130,
    StoreCaMissing = 131,
    WeakCipherSuite = 132,
    CrlExpired = 133,
    CrlExpiring = 134
};

// One kind of problem lint knows; the table of them is data (lint.cpp).
struct FindingKind {
    Lint id;
    std::string_view code;  // stable: "L101"
    std::string_view name;  // stable: "scheme-mismatch"
    Severity severity;
    std::string_view summary;  // one line for docs
};
std::span<const FindingKind> finding_kinds();

struct Finding {
    const FindingKind* kind;
    std::string file;               // the backend.yml (or cert/key file) the problem is in
    int line = 0;                   // 0 when not tied to a line
    std::string message;            // one line: what is wrong and what to do
    std::string to_string() const;  // "file:line: L101 scheme-mismatch: message"
};

struct LintOptions {
    std::chrono::hours expiry_warning{24 * 30};                // certs expiring sooner are a warning
    bool check_files = true;                                   // read and check the certs/keys named
    std::optional<std::chrono::system_clock::time_point> now;  // expiry is judged at this time (default: now)
};

// By what a user typed ("L101" or "scheme-mismatch"; nullptr when unknown), or by its enum.
const FindingKind* find_finding_kind(std::string_view code_or_name);
const FindingKind& finding_kind(Lint id);

// Checks one node's configuration and the files it names (relative paths resolve against
// the directory of the config's source file).
std::vector<Finding> lint_node(const BackendConfig& config, const LintOptions& options = {});
// One of this node's own certificates (an identity's certificate or a CA it trusts) and when it expires.
struct CertExpiry {
    std::string key;   // the backend.yml key naming the file: "etcd-peer-cert-file"
    std::string file;  // as the key gives it
    std::string subject;
    std::string serial;  // decimal: a CA bundle mid-rotation may hold two certificates of one subject
    std::chrono::system_clock::time_point not_after;
    bool expired = false;
    std::string to_string() const;  // "cert-file /etc/trellis/api.pem (CN=backend-1) expires on 2027-...Z, in 20 days"
};
// Every certificate the node's configuration names that expires within `window` of `now` (or has
// expired), each file once; files that do not load are lint's business and left out. What the
// backend logs and /health reports.
std::vector<CertExpiry> expiring_certificates(const BackendConfig& config, std::chrono::hours window,
                                              std::chrono::system_clock::time_point now);

// A window that takes every certificate, whatever its date: far beyond any not-after, still in range.
inline constexpr std::chrono::hours kEveryDate(24 * 365 * 200);

// expiring_certificates for a process that asks often (the API's /health and /metrics): the files are
// read and parsed again only when one was replaced or rewritten (core/file_stamp.hpp); the window and
// `now` are applied to what was parsed. Safe to share across threads.
class CertExpiryCache {
  public:
    explicit CertExpiryCache(BackendConfig config) : config_(std::move(config)) {}
    std::vector<CertExpiry> expiring(std::chrono::hours window, std::chrono::system_clock::time_point now);

  private:
    BackendConfig config_;
    std::mutex mutex_;
    std::optional<std::vector<FileStamp>> stamps_;  // of the files when `all_` was read; none yet
    std::vector<CertExpiry> all_;                   // every certificate, whatever its date
};

// Cross-node checks over a set of configs (initial-cluster agreement, duplicate names/URLs).
std::vector<Finding> lint_cluster(std::span<const BackendConfig> configs, const LintOptions& options = {});
// A cfssl ca-config.json (the guide's): profiles its commands ask for (-profile peer, client, server)
// that the file lacks, which cfssl silently replaces with the default profile.
std::vector<Finding> lint_signing_policy(std::string_view json, std::string_view source);

}  // namespace trellis::cluster
