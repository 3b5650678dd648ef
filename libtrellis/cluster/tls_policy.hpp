// The TLS policy of every port a node serves (etcd's client and peer ports, the backend API): which
// TLS 1.2 cipher suites are allowed, by their Go names (what etcd's --cipher-suites takes) and their
// OpenSSL names (what the API's OpenSSL context takes), so both sides follow one list.
// TLS 1.3 suites are all AEAD with forward secrecy; this list governs TLS 1.2 only.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace trellis::cluster {

struct CipherSuite {
    std::string_view go_name;       // "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256" (etcd --cipher-suites)
    std::string_view openssl_name;  // "ECDHE-ECDSA-AES128-GCM-SHA256"; empty: OpenSSL 3 has none (RC4)
    bool strong;                    // ECDHE key exchange and an AEAD cipher (GCM or ChaCha20-Poly1305)
};

// Every suite etcd 3.4 accepts by name.
std::span<const CipherSuite> cipher_suites();
// By its Go name; nullptr when etcd would refuse the name.
const CipherSuite* find_cipher_suite(std::string_view go_name);

// The default of etcd-cipher-suites: the strong suites, ECDSA first (Trellis' keys are ECDSA by default).
inline constexpr std::string_view kStrongCipherSuites =
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,"
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305,TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,"
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305";

// The OpenSSL cipher list (SSL_CTX_set_cipher_list) for the same Go names; unknown names and names
// OpenSSL lacks are left out (lint reports them).
std::string openssl_cipher_list(const std::vector<std::string>& go_names);

// api-tls-min-version: "1.2" or "1.3" -> the TLS version number (0x0303, 0x0304); nullopt otherwise.
std::optional<int> tls_version(std::string_view text);

}  // namespace trellis::cluster
