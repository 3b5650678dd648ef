// Issuing: CA creation, leaf issuance from CSR JSON or a PEM CSR, self-signed
// certificates and CRLs, producing certificates as cfssl does (20-byte random
// serials, SKI/AKI, critical CA:FALSE on leaves, 5-minute backdate).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "pki/certificate.hpp"
#include "pki/key.hpp"
#include "pki/policy.hpp"
#include "pki/request.hpp"

namespace trellis::pki {

// What cfssl gencert prints as JSON: {"cert","csr","key"}; empty members are omitted.
struct Issued {
    std::string cert;
    std::string csr;
    std::string key;
    std::string to_json() const;  // one line, keys sorted
};

// A CA that can sign: its certificate and private key, checked to belong together
// and to be allowed to sign certificates (Code::CertNotCA otherwise).
class Signer {
  public:
    Signer(Certificate cert, PrivateKey key);
    // `cert_source`/`key_source` use read_source() syntax (path, file:, env:).
    static Signer load(std::string_view cert_source, std::string_view key_source,
                       const std::optional<std::string>& passphrase = std::nullopt);
    const Certificate& certificate() const { return cert_; }
    const PrivateKey& key() const { return key_; }

  private:
    Certificate cert_;
    PrivateKey key_;
};

// Per-call overrides of the request, as cfssl's -hostname and -cn flags.
struct Overrides {
    std::optional<std::vector<std::string>> hosts;
    std::optional<std::string> cn;
    // cfssl's signer.Subject for `sign`: each subject field these set replaces the
    // request's; a field they leave empty keeps the request's values.
    std::optional<std::vector<Name>> names;
    std::optional<std::string> serialnumber;
};

// gencert -initca: a new key and self-signed CA (validity from request.ca.expiry, default 43800h).
Issued init_ca(const CertificateRequest& request, Warnings& warnings);
// init_ca's CA both as PEMs (no CSR) and ready to sign, for callers that sign with it at once
// (provisioning): nothing is parsed back from the PEMs.
struct NewCa {
    Issued issued;
    Signer signer;
};
NewCa init_ca_signer(const CertificateRequest& request, Warnings& warnings);
// gencert -ca -ca-key: a new key, its CSR, and a certificate signed by `ca` under `profile`.
Issued issue(const CertificateRequest& request, const Signer& ca, const Profile& profile, const Overrides& overrides,
             Warnings& warnings);
// Issue from an already generated key (the caller may generate keys in parallel).
Issued issue_with_key(const CertificateRequest& request, const PrivateKey& key, const Signer& ca,
                      const Profile& profile, const Overrides& overrides, Warnings& warnings);
// The certificate alone for a key the caller just made: no CSR and no PEM, for issuers that make
// keys themselves (provisioning, the library's CertificateAuthority). Same checks and extensions as issue().
Certificate issue_certificate(const CertificateRequest& request, const PrivateKey& key, const Signer& ca,
                              const Profile& profile, Warnings& warnings);
// genkey: a new key and CSR, no certificate. (genkey -initca is init_ca.)
Issued generate_key(const CertificateRequest& request, Warnings& warnings);
// sign: signs a PEM CSR; `hosts` replaces its SANs when set; `subject` overrides its subject when set.
std::string sign_csr(std::string_view csr_pem, std::string_view source, const Signer& ca, const Profile& profile,
                     const Overrides& overrides, Warnings& warnings);
// selfsign: a new key and a self-signed (non-CA) certificate for `request`.
Issued self_sign(const CertificateRequest& request, const Profile& profile, Warnings& warnings);
// Why `value` cannot be a subject attribute of `type` ("C", "ST", "L", "O", "OU", "CN"), e.g. a
// country that is not two letters or a CN over 64 characters; nullopt when it can.
std::optional<std::string> subject_value_problem(std::string_view type, std::string_view value);
// gencrl: a CRL revoking `serials` (decimal), valid for `expiry`; returned as base64 DER like cfssl.
std::string generate_crl(const std::vector<std::string>& serials, const Signer& ca, Duration expiry);

}  // namespace trellis::pki
