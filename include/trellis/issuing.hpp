// Public API: making a CA and issuing certificates from it, as Trellis provisions clusters
// (20-byte random serials, SKI/AKI, critical CA:FALSE on leaves, SHA-256 or better).
#pragma once

#include <chrono>
#include <initializer_list>
#include <string>
#include <vector>

#include "certificates.hpp"
#include "keys.hpp"

namespace trellis {

// What a leaf certificate may be used for. DigitalSignature is always set; KeyEncipherment is
// added for RSA keys (key transport); the extended usages are exactly those asked for.
enum class Usage { ServerAuth, ClientAuth };

// The subject and key of a certificate to issue. `hosts` become SANs: IP literals as IP
// addresses, everything else as DNS names (checked; Code::CsrBadHost otherwise).
struct CertificateSpec {
    std::string common_name{};
    std::vector<std::string> hosts{};
    std::vector<Usage> usages{};
    KeySpec key{};
    std::string organization{};  // optional O
    std::chrono::hours validity{24 * 365};

    // An etcd peer / node certificate: server and client authentication.
    static CertificateSpec peer(std::string common_name, std::vector<std::string> hosts);
    // A TLS server certificate.
    static CertificateSpec server(std::string common_name, std::vector<std::string> hosts);
    // A client certificate (no SANs needed).
    static CertificateSpec client(std::string common_name);
};

struct CaSpec {
    std::string common_name{};
    std::string organization{};  // optional O
    KeySpec key{};
    std::chrono::hours validity{24 * 365 * 5};
};

// A certificate together with its new private key.
struct Issued {
    Certificate certificate;
    PrivateKey key;
};

// A CA that can sign: its certificate and key, checked to belong together and to be a CA.
class CertificateAuthority {
  public:
    // A new key and a self-signed CA certificate.
    static CertificateAuthority create(const CaSpec& spec);
    // An existing CA; Code::KeyMismatch or Code::CertNotCA when the pair cannot sign.
    CertificateAuthority(Certificate certificate, PrivateKey key);

    const Certificate& certificate() const { return certificate_; }
    const PrivateKey& key() const { return key_; }
    // A new key and a certificate for it signed by this CA.
    Issued issue(const CertificateSpec& spec) const;
    // issue() for each spec, in order, spread over `threads` threads (0: one per core). Nothing is
    // encoded until asked (Certificate::pem, PrivateKey::pem). The first failure is thrown.
    std::vector<Issued> issue_many(const std::vector<CertificateSpec>& specs, unsigned threads = 0) const;

  private:
    Certificate certificate_;
    PrivateKey key_;
};

}  // namespace trellis
