// Chain validation with two independent stacks: OpenSSL and Botan 2. A chain
// Trellis makes or accepts must pass both.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/parallel.hpp"
#include "pki/certificate.hpp"
#include "pki/key.hpp"

namespace trellis::pki {

// Builds, on another core, what Botan needs before it can check a first signature by an `issuer_key` key
// in this process: for ECDSA, its curve's tables (Botan makes them once per process and curve, about 2 ms,
// when it decodes the first key on the curve). Made before the issuer's keys and signatures, they are
// ready when the check of what was signed begins, instead of being its first 2 ms. Nothing is started
// for RSA or Ed25519. Destroying it waits for the work to end (a check that needs the tables first waits
// for them inside Botan, which builds each curve's once).
class CheckWarmup {
  public:
    explicit CheckWarmup(const KeyRequest& issuer_key);

  private:
    std::optional<PlacedThread> thread_;
};

enum class Purpose { Any, ServerAuth, ClientAuth };

struct VerifyResult {
    bool ok = false;
    std::string error;  // empty when ok; the stack's reason otherwise
};

struct VerifyRequest {
    Certificate leaf;
    std::vector<Certificate> intermediates;
    std::vector<Certificate> roots;
    Purpose purpose = Purpose::Any;
    std::optional<std::string> host;      // IP or DNS name the leaf must cover
    std::optional<Clock::time_point> at;  // default: now
};

VerifyResult verify_with_openssl(const VerifyRequest& request);
VerifyResult verify_with_botan(const VerifyRequest& request);

// Checks a certificate just made, before anyone writes it: it must verify against `issuer` (itself
// when self-signed) with OpenSSL and with Botan, now or, when a profile put its validity elsewhere,
// at the start of its validity. Code::CertVerifyFailed with both stacks' reasons otherwise.
void verify_issued(const Certificate& cert, const Certificate& issuer);
// Why the chain fails under OpenSSL or Botan or both ("" when both accept it), each reason as the stack gave it.
std::string chain_problem(const VerifyRequest& request);
// Code::CertVerifyFailed naming `what` and the reasons unless both stacks accept the chain: what Trellis
// makes is checked before it is written.
void require_chain(const VerifyRequest& request, std::string_view what);

// Checks many leaves of one self-signed CA, as require_chain does, with what depends only on the CA done
// once: OpenSSL verifies each leaf as verify_with_openssl does; Botan validates the CA once (PKIX::check_chain
// of the CA alone) and then applies to each leaf the checks PKIX::check_chain makes of a chain's first
// certificate, with the CA's key decoded once and its verifiers reused. A full x509_path_validate per leaf
// re-verifies the CA's own signature every time: half of provisioning's CPU. Safe to share between threads.
class LeafChecker {
  public:
    explicit LeafChecker(const Certificate& ca);  // Code::CertVerifyFailed when Botan refuses the CA itself
    ~LeafChecker();
    LeafChecker(const LeafChecker&) = delete;
    LeafChecker& operator=(const LeafChecker&) = delete;
    // Code::CertVerifyFailed naming `what` unless both stacks accept `leaf` under the CA for `purpose`, now.
    void require(const Certificate& leaf, Purpose purpose, std::string_view what) const;

  private:
    struct Botan;
    Certificate ca_;
    std::unique_ptr<Botan> botan_;
};

}  // namespace trellis::pki
