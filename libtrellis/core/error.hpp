// The one error type of Trellis: a stable numeric code plus a one-line message
// that says what went wrong and what to do. Codes follow cfssl's scheme,
// category * 1000 + reason, so scripts can match on them across releases.
#pragma once

#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace trellis {

// Stable codes. Never renumber: add new ones at the end of their category. Retired, never to be reused:
// 1001 CertReadFailed, 2001 KeyReadFailed (a file that cannot be read is FileReadFailed, whatever it holds).
enum class Code : int {
    // 1xxx certificates
    CertDecodeFailed = 1002,
    CertParseFailed = 1003,
    CertNotCA = 1100,
    CertVerifyFailed = 1101,
    CertExpired = 1102,
    CertSignFailed = 1103,
    CertBadRequest = 1104,
    CertRenewalDue = 1105,      // check-expiration: a certificate is inside the renewal window or expired (exit 6)
    CertUnknownName = 1106,     // renew --name: no leaf of that name in the spec
    RotationOutOfOrder = 1107,  // rotate-ca: a stage run before the one it follows (trust, reissue, finish)
    // 2xxx private keys
    KeyDecodeFailed = 2002,
    KeyParseFailed = 2003,
    KeyEncrypted = 2100,  // encrypted key and no passphrase given
    KeyBadPassphrase = 2101,
    KeyUnsupported = 2102,  // algorithm or size we refuse (RSA < 2048, unknown curve)
    KeyMismatch = 2103,     // key does not belong to the certificate
    KeyGenerationFailed = 2104,
    // 5xxx signing policy (ca-config.json)
    PolicyInvalid = 5001,
    PolicyUnknownProfile = 5002,
    PolicyUnknownUsage = 5003,
    PolicyNoUsages = 5004,
    PolicyBadDuration = 5005,
    PolicyNameNotAllowed = 5006,
    PolicyCaNotAllowed = 5007,  // a CA:TRUE request the profile or the issuer's pathLen does not allow
    // 9xxx certificate requests (CSR JSON and PEM CSRs)
    CsrInvalid = 9001,
    CsrBadHost = 9002,
    CsrParseFailed = 9003,
    CsrSignatureInvalid = 9004,
    CsrWeakSignature = 9005,  // the request is signed with MD5 or SHA-1
    // 12xxx input documents and command lines
    InputMalformed = 12001,  // not valid JSON/YAML
    InputWrongType = 12002,
    InputUnknownKey = 12003,
    InputMissingKey = 12004,
    InputInvalidValue = 12005,
    Usage = 12006,  // bad command-line use
    InputDuplicateKey = 12007,
    InputTooDeep = 12008,  // nested deeper than we read or print
    // 13xxx files
    FileReadFailed = 13001,
    FileWriteFailed = 13002,
    FileExists = 13003,       // would overwrite something the user had
    FilePermissions = 13004,  // a path the process must use has unsafe or unusable permissions
    FileTooLarge = 13005,
    // 14xxx cluster spec and node configuration
    SpecInvalid = 14001,
    ConfigInvalid = 14002,
    LintFindings = 14003,
    // 15xxx store (etcd) and processes
    StoreUnavailable = 15001,
    StoreRequestFailed = 15002,
    StoreProcessFailed = 15003,
    MemberNotFound = 15004,
    MemberRemoved = 15005,      // this node's member was removed from the cluster (trellis-backend exits 4)
    StoreDataDamaged = 15006,   // etcd's WAL, snapshot or database is corrupt or truncated
    StoreDataForeign = 15007,   // state-dir holds another cluster's data
    SnapshotCorrupt = 15010,    // not an etcd snapshot, truncated, or its SHA-256 does not match
    QuorumReachable = 15011,    // recover refused: a quorum of the members still answers
    RolloutIncomplete = 15012,  // after a rollout a node still serves another certificate than its file's
    // 16xxx network and TLS
    ConnectFailed = 16001,
    TlsFailed = 16002,
    HttpError = 16003,
    Forbidden = 16004,  // authenticated, but the certificate's role may not do this (HTTP 403)
    // 99xxx internal
    Internal = 99001,
};

// Short stable name for a code, e.g. "KeyUnsupported"; used in docs and JSON.
std::string_view code_name(Code code);

struct CodeInfo {
    Code code;
    std::string_view name;
};
// Every code, in numeric order (docs/errors.md lists the same, a test keeps them in step).
std::span<const CodeInfo> all_codes();

class Error : public std::runtime_error {
  public:
    Error(Code code, std::string message) : std::runtime_error(std::move(message)), code_(code) {}

    Code code() const noexcept { return code_; }
    int number() const noexcept { return static_cast<int>(code_); }
    // `{"code":N,"message":"..."}` on one line, as the CLIs print it on stderr.
    std::string to_json() const;

  private:
    Code code_;
};

// A message prefixed by where it came from ("ca-config.json: signing.profiles.peer.expiry: ...").
std::string located(std::string_view where, std::string_view what);

// What a message may quote of an offending value: at most `limit` bytes, control characters and
// non-UTF-8 bytes escaped (\n, \x00), and "... (N bytes)" when cut, so one line stays one short line.
std::string excerpt(std::string_view value, size_t limit = 80);

}  // namespace trellis

namespace trellis {
// Non-fatal findings collected while parsing or issuing (a profile fell back to
// default, an empty host was dropped); CLIs print each as "warning: ..." on stderr.
using Warnings = std::vector<std::string>;
}  // namespace trellis
