// Public API: X.509 certificates as values: read and write PEM and ask what they say.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "keys.hpp"

namespace trellis {

namespace detail {
struct CertificateImpl;
}

// An immutable certificate; copies share it.
class Certificate {
  public:
    using TimePoint = std::chrono::system_clock::time_point;

    // The first certificate in `pem`; Code::CertDecodeFailed / CertParseFailed naming `source`.
    static Certificate from_pem(std::string_view pem, std::string_view source);
    // Every certificate of a PEM bundle (at least one).
    static std::vector<Certificate> all_from_pem(std::string_view pem, std::string_view source);

    std::string pem() const;
    std::string common_name() const;
    std::string serial() const;  // decimal
    bool is_ca() const;
    TimePoint not_before() const;
    TimePoint not_after() const;
    std::vector<std::string> dns_names() const;
    std::vector<std::string> ip_addresses() const;  // canonical text: "127.0.0.1", "::1"
    bool covers_host(std::string_view host) const;  // an IP literal or DNS name (RFC 6125 wildcards)
    bool matches(const PrivateKey& key) const;      // is `key` the private half of this certificate?

    explicit Certificate(std::shared_ptr<const detail::CertificateImpl> impl);  // used inside the library
    const detail::CertificateImpl& impl() const { return *impl_; }

  private:
    std::shared_ptr<const detail::CertificateImpl> impl_;
};

}  // namespace trellis
