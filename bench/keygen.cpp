// RSA key generation, Botan 2 vs OpenSSL 3, in-process: the numbers behind
// PrivateKey::generate's choice of generator; then what one core issues per
// second with ECDSA P-256 (key + CSR + certificate + PEM), the hot path of
// provisioning. Usage: keygen [keys-per-side] [bits]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>

#include "pki/issue.hpp"
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

    // ECDSA P-256 issuance on one core, for issue 3's 5,000 certificates/s on two cores.
    using namespace trellis::pki;
    trellis::Warnings w;
    CertificateRequest ca_req;
    ca_req.cn = "bench CA";
    const Issued ca_files = init_ca(ca_req, w);
    const Signer ca(Certificate::from_pem(ca_files.cert, "ca"), PrivateKey::from_pem(ca_files.key, "ca-key"));
    Profile profile;
    profile.usages = {"signing", "server auth", "client auth"};
    CertificateRequest req;
    req.cn = "node";
    req.hosts = {"node.example", "127.0.0.1"};
    const int certs = 2000;
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < certs; ++i) issue(req, ca, profile, {}, w);
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - t0;
    std::printf("ecdsa-p256 issue (key + csr + cert + pem), %d certs, one thread\n", certs);
    std::printf("  %8.0f certs/s  (%.1f us/cert)\n", certs / took.count(), took.count() * 1e6 / certs);
    return 0;
}
