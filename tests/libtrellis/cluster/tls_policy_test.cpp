// The one TLS policy of etcd's ports and the API: the default is ECDHE with AEAD only, and the
// OpenSSL list the API gets names the same suites as the Go list etcd gets.
#include "cluster/tls_policy.hpp"

#include <gtest/gtest.h>

#include "cluster/backend_config.hpp"

namespace trellis::cluster {
namespace {

std::vector<std::string> default_suites() { return BackendConfig().get_list(Key::EtcdCipherSuites); }

TEST(TlsPolicy, TheDefaultIsStrongOnlyAndEtcdGetsIt) {
    const auto suites = default_suites();
    ASSERT_EQ(suites.size(), 6u);
    for (const auto& name : suites) {
        const CipherSuite* s = find_cipher_suite(name);
        ASSERT_NE(s, nullptr) << name;
        EXPECT_TRUE(s->strong) << name;
        EXPECT_EQ(name.find("CBC"), std::string::npos) << name;
    }
    const auto args = BackendConfig().etcd_arguments();
    EXPECT_NE(std::find(args.begin(), args.end(), "--cipher-suites=" + std::string(kStrongCipherSuites)), args.end());
}

TEST(TlsPolicy, TheApiGetsTheSameSuitesInOpenSslSpelling) {
    EXPECT_EQ(openssl_cipher_list(default_suites()),
              "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:"
              "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305");
    // Aliases collapse, a name that is a prefix of another stays whole, unknown and RC4 names are left out.
    EXPECT_EQ(
        openssl_cipher_list({"TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305", "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
                             "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
                             "TLS_RSA_WITH_RC4_128_SHA", "TLS_BOGUS"}),
        "ECDHE-RSA-CHACHA20-POLY1305:ECDHE-RSA-AES128-SHA256:ECDHE-RSA-AES128-SHA");
}

TEST(TlsPolicy, OnlyStrongSuitesAreMarkedStrong) {
    for (const auto& s : cipher_suites()) {
        const bool aead =
            s.go_name.find("GCM") != std::string_view::npos || s.go_name.find("CHACHA20") != std::string_view::npos;
        EXPECT_EQ(s.strong, aead && s.go_name.starts_with("TLS_ECDHE_")) << s.go_name;
    }
}

TEST(TlsPolicy, MinimumVersionIsOneTwoOrOneThree) {
    EXPECT_EQ(tls_version("1.2"), 0x0303);
    EXPECT_EQ(tls_version("1.3"), 0x0304);
    EXPECT_FALSE(tls_version("1.1"));
    EXPECT_FALSE(tls_version("1.2 "));
}

}  // namespace
}  // namespace trellis::cluster
