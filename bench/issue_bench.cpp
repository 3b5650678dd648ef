// Certificates per second in memory through the public API (issue 14, goal 1): a new ECDSA P-256 key
// and a certificate for it, nothing encoded or written. One issue() after another on one thread, then
// issue_many() on 1 and 2 threads; beside it, in the same run, `openssl speed ecdsap256` on as many
// processes: the rate at which this machine can make ECDSA signatures at all (each certificate needs a
// signature and a key, which costs about as much again). Usage: issue-bench [certificates] [rounds]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "trellis/issuing.hpp"

namespace {

using Clock = std::chrono::steady_clock;

double per_second(size_t n, const std::function<void()>& body) {
    const auto start = Clock::now();
    body();
    return static_cast<double>(n) / std::chrono::duration<double>(Clock::now() - start).count();
}

// ECDSA P-256 signatures per second from `openssl speed` on `processes` processes (0 when it fails).
double openssl_signs(int processes) {
    const std::string cmd = "openssl speed -seconds 2 -multi " + std::to_string(processes) +
                            " ecdsap256 2>/dev/null | awk '/^ *256 bits ecdsa/ {print $(NF-1)}'";
    FILE* p = popen(cmd.c_str(), "r");
    if (p == nullptr) return 0;
    double rate = 0;
    if (std::fscanf(p, "%lf", &rate) != 1) rate = 0;
    pclose(p);
    return rate;
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
    const size_t n = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 20000;
    const int rounds = argc > 2 ? std::atoi(argv[2]) : 5;
    if (n == 0 || rounds <= 0) {
        std::fprintf(stderr, "usage: issue-bench [certificates > 0] [rounds > 0]\n");
        return 2;
    }
    const auto ca = trellis::CertificateAuthority::create({.common_name = "bench CA"});
    std::vector<trellis::CertificateSpec> specs;
    for (size_t i = 0; i < n; ++i) {
        auto spec = trellis::CertificateSpec::client("agent-" + std::to_string(i));
        spec.hosts = {"127.0.0.1"};
        specs.push_back(spec);
    }
    std::vector<double> one, many1, many2, ossl1, ossl2;
    for (int r = 0; r < rounds; ++r) {  // alternate, so a busy moment slows every side alike
        one.push_back(per_second(n, [&] {
            for (const auto& s : specs) ca.issue(s);
        }));
        many1.push_back(per_second(n, [&] { ca.issue_many(specs, 1); }));
        many2.push_back(per_second(n, [&] { ca.issue_many(specs, 2); }));
        ossl1.push_back(openssl_signs(1));
        ossl2.push_back(openssl_signs(2));
    }
    std::printf("%zu ECDSA P-256 certificates per round, median of %d rounds (per second)\n", n, rounds);
    std::printf("  issue() in a loop, 1 thread     %9.0f\n", median(one));
    std::printf("  issue_many(), 1 thread          %9.0f\n", median(many1));
    std::printf("  issue_many(), 2 threads         %9.0f\n", median(many2));
    std::printf("  openssl speed ecdsap256 sign, 1 process   %9.0f\n", median(ossl1));
    std::printf("  openssl speed ecdsap256 sign, 2 processes %9.0f\n", median(ossl2));
    return 0;
}
