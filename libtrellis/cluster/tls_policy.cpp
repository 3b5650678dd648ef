#include "cluster/tls_policy.hpp"

#include <algorithm>
#include <array>

namespace trellis::cluster {
namespace {

// etcd 3.4's pkg/tlsutil names (Go's crypto/tls), with OpenSSL's name for the same suite.
constexpr auto kSuites = std::to_array<CipherSuite>({
    {"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "ECDHE-ECDSA-AES128-GCM-SHA256", true},
    {"TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "ECDHE-ECDSA-AES256-GCM-SHA384", true},
    {"TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305", "ECDHE-ECDSA-CHACHA20-POLY1305", true},
    {"TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-ECDSA-CHACHA20-POLY1305", true},
    {"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "ECDHE-RSA-AES128-GCM-SHA256", true},
    {"TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "ECDHE-RSA-AES256-GCM-SHA384", true},
    {"TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305", "ECDHE-RSA-CHACHA20-POLY1305", true},
    {"TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-RSA-CHACHA20-POLY1305", true},
    // CBC (Lucky13 and friends), RSA key exchange (no forward secrecy), 3DES and RC4: etcd takes them.
    {"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", "ECDHE-ECDSA-AES128-SHA", false},
    {"TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", "ECDHE-ECDSA-AES256-SHA", false},
    {"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", "ECDHE-ECDSA-AES128-SHA256", false},
    {"TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "ECDHE-RSA-AES128-SHA", false},
    {"TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", "ECDHE-RSA-AES256-SHA", false},
    {"TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", "ECDHE-RSA-AES128-SHA256", false},
    {"TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA", "ECDHE-RSA-DES-CBC3-SHA", false},
    {"TLS_RSA_WITH_AES_128_GCM_SHA256", "AES128-GCM-SHA256", false},
    {"TLS_RSA_WITH_AES_256_GCM_SHA384", "AES256-GCM-SHA384", false},
    {"TLS_RSA_WITH_AES_128_CBC_SHA", "AES128-SHA", false},
    {"TLS_RSA_WITH_AES_256_CBC_SHA", "AES256-SHA", false},
    {"TLS_RSA_WITH_AES_128_CBC_SHA256", "AES128-SHA256", false},
    {"TLS_RSA_WITH_3DES_EDE_CBC_SHA", "DES-CBC3-SHA", false},
    {"TLS_RSA_WITH_RC4_128_SHA", "", false},
    {"TLS_ECDHE_ECDSA_WITH_RC4_128_SHA", "", false},
    {"TLS_ECDHE_RSA_WITH_RC4_128_SHA", "", false},
});

}  // namespace

std::span<const CipherSuite> cipher_suites() { return kSuites; }

const CipherSuite* find_cipher_suite(std::string_view go_name) {
    const auto it =
        std::find_if(kSuites.begin(), kSuites.end(), [&](const CipherSuite& s) { return s.go_name == go_name; });
    return it == kSuites.end() ? nullptr : &*it;
}

std::string openssl_cipher_list(const std::vector<std::string>& go_names) {
    std::vector<std::string_view> names;
    for (const auto& name : go_names) {
        const CipherSuite* suite = find_cipher_suite(name);
        if (suite == nullptr || suite->openssl_name.empty()) continue;
        if (std::find(names.begin(), names.end(), suite->openssl_name) == names.end())  // the _SHA256 aliases
            names.push_back(suite->openssl_name);
    }
    std::string out;
    for (const auto name : names) out += (out.empty() ? "" : ":") + std::string(name);
    return out;
}

std::optional<int> tls_version(std::string_view text) {
    if (text == "1.2") return 0x0303;
    if (text == "1.3") return 0x0304;
    return std::nullopt;
}

}  // namespace trellis::cluster
