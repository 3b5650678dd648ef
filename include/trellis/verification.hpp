// Public API: chain verification with two independent stacks (OpenSSL and Botan). Trellis
// trusts a chain only when both accept it.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "certificates.hpp"

namespace trellis {

enum class Purpose { Any, ServerAuth, ClientAuth };

struct VerifyOptions {
    std::vector<Certificate> intermediates{};
    Purpose purpose = Purpose::Any;
    std::optional<std::string> host{};                          // IP or DNS name the leaf must cover
    std::optional<std::chrono::system_clock::time_point> at{};  // default: now
};

struct Verdict {
    bool ok = false;              // both stacks accept the chain
    std::string openssl_error{};  // empty when OpenSSL accepts it
    std::string botan_error{};    // empty when Botan accepts it
};

Verdict verify(const Certificate& leaf, const std::vector<Certificate>& roots, const VerifyOptions& options = {});

}  // namespace trellis
