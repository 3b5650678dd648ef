// RSA key generation, Botan 2 vs OpenSSL 3, in-process: the numbers behind
// PrivateKey::generate's choice of generator. Usage: keygen [keys-per-side] [bits]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>

#include "pki/key.hpp"

namespace {

double ms_per_key(const std::function<trellis::pki::PrivateKey(int)>& gen, int n, int bits) {
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < n; ++i) gen(bits);
    const std::chrono::duration<double, std::milli> took = std::chrono::steady_clock::now() - start;
    return took.count() / n;
}

}  // namespace

int main(int argc, char** argv) {
    const int n = argc > 1 ? std::atoi(argv[1]) : 40;
    const int bits = argc > 2 ? std::atoi(argv[2]) : 2048;
    if (n <= 0 || bits < 2048) {
        std::fprintf(stderr, "usage: keygen [keys-per-side > 0] [bits >= 2048]\n");
        return 2;
    }
    // Warm up both (RNG seeding, provider loading) so the first key does not count.
    trellis::pki::generate_rsa_with_botan(bits);
    trellis::pki::generate_rsa_with_openssl(bits);
    const double botan = ms_per_key(trellis::pki::generate_rsa_with_botan, n, bits);
    const double openssl = ms_per_key(trellis::pki::generate_rsa_with_openssl, n, bits);
    std::printf("rsa-%d keygen, %d keys each, in-process\n", bits, n);
    std::printf("  botan   %8.1f ms/key\n", botan);
    std::printf("  openssl %8.1f ms/key\n", openssl);
    std::printf("  openssl/botan ratio %.2f (>1: botan is faster)\n", openssl / botan);
    return 0;
}
