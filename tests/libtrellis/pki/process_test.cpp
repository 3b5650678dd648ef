#include "pki/process.hpp"

#include <gtest/gtest.h>
#include <openssl/crypto.h>

#include <cstdlib>

#include "pki/key.hpp"

namespace trellis::pki {
namespace {

// OpenSSL refuses to initialise again once it has cleaned up. Registered before OpenSSL's own handler,
// this one runs after it and tells by its exit code whether that handler ran.
void exit_with_openssl_state() { std::_Exit(OPENSSL_init_crypto(0, nullptr) == 1 ? 0 : 3); }

void use_openssl_then_exit(bool skip_cleanup) {
    std::atexit(exit_with_openssl_state);
    if (skip_cleanup) skip_openssl_cleanup_at_exit();
    (void)PrivateKey::generate({KeyAlgorithm::Ecdsa, 256});
    std::exit(0);
}

TEST(ProcessDeathTest, OpenSslIsLeftAsItWasAtExitOnlyWhenToldSo) {
    // A fresh process for each: the test binary has long since initialised OpenSSL with its handler.
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_EXIT(use_openssl_then_exit(true), testing::ExitedWithCode(0), "");
    EXPECT_EXIT(use_openssl_then_exit(false), testing::ExitedWithCode(3), "");
}

}  // namespace
}  // namespace trellis::pki
