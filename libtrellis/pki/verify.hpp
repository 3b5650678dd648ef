// Chain validation with two independent stacks: OpenSSL and Botan 2. A chain
// Trellis makes or accepts must pass both.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "pki/certificate.hpp"

namespace trellis::pki {

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

}  // namespace trellis::pki
