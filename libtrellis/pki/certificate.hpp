// X.509 certificates and PKCS#10 requests as values: parse from PEM, write
// PEM, and answer the questions signing and linting ask of them.
#pragma once

#include <openssl/x509.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/time.hpp"
#include "pki/key.hpp"

namespace trellis::pki {

using Clock = std::chrono::system_clock;

class Certificate {
  public:
    // First certificate in `pem`; Code::CertDecodeFailed / CertParseFailed naming `source`.
    static Certificate from_pem(std::string_view pem, std::string_view source);
    // Every certificate in `pem` (a bundle); at least one.
    static std::vector<Certificate> all_from_pem(std::string_view pem, std::string_view source);
    explicit Certificate(X509* cert);  // takes ownership

    std::string pem() const;
    std::string der() const;
    X509* get() const { return cert_.get(); }

    std::string common_name() const;
    std::vector<std::string> organizations() const;  // every O of the subject, in order (Trellis's role)
    // Subject and issuer as one line, RFC 2253 order and escaping: "CN=backend-1,O=Trellis".
    std::string subject_text() const;
    std::string issuer_text() const;
    bool is_ca() const;                  // basicConstraints CA:TRUE
    bool can_sign_certificates() const;  // CA and (no keyUsage or keyCertSign)
    Clock::time_point not_before() const;
    Clock::time_point not_after() const;
    std::vector<std::string> dns_names() const;
    std::vector<std::string> ip_addresses() const;  // canonical text: "127.0.0.1", "::1"
    bool has_ext_key_usage(int nid) const;          // NID_server_auth, NID_client_auth, ...
    bool has_key_usage(int bit) const;              // KU_DIGITAL_SIGNATURE, ...
    // Does this certificate cover `host` (an IP literal or a DNS name, wildcards per RFC 6125)?
    bool covers_host(std::string_view host) const;
    // Is `key` the private half of this certificate's public key?
    bool matches(const PrivateKey& key) const;
    std::string serial_decimal() const;

  private:
    std::shared_ptr<X509> cert_;
};

class Csr {
  public:
    static Csr from_pem(std::string_view pem, std::string_view source);
    explicit Csr(X509_REQ* req);  // takes ownership
    std::string pem() const;
    X509_REQ* get() const { return req_.get(); }
    // Code::CsrSignatureInvalid unless the request is signed by its own key.
    void verify_self_signature(std::string_view source) const;

  private:
    std::shared_ptr<X509_REQ> req_;
};

// What a CRL says (PEM or DER): the serials it revokes (decimal, sorted), when it was signed and when the
// next one is due (a relying party that checks nextUpdate, as OpenSSL does, refuses every certificate of
// its CA once that passes), and whether `issuer` (when given) signed it.
struct CrlInfo {
    std::vector<std::string> serials;
    Clock::time_point last_update, next_update;
    bool signed_by_issuer = false;
};
// Code::CertParseFailed naming `source` when `data` is no CRL.
CrlInfo read_crl(std::string_view data, std::string_view source, const Certificate* issuer = nullptr);
// A CRL as generate_crl returns it (base64 DER) in PEM ("-----BEGIN X509 CRL-----"), as etcd and OpenSSL read it.
std::string crl_pem(std::string_view base64_der);

}  // namespace trellis::pki
