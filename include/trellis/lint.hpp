// Public API: lint of node configurations (backend.yml) and the certificates and keys they name,
// as `cluster-config lint` and trellis-backend's preflight run it (docs/lint.md lists the codes).
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace trellis {

enum class Severity { Error, Warning };

struct LintFinding {
    std::string code{};  // stable: "L101"
    std::string name{};  // stable: "scheme-mismatch"
    Severity severity = Severity::Error;
    std::string file{};  // the backend.yml (or the certificate or key) the problem is in
    int line = 0;        // 0 when not tied to a line
    std::string message{};
    std::string text{};  // the whole finding on one line: "file:line: L101 scheme-mismatch: message"
};

struct LintOptions {
    std::chrono::hours expiry_warning{24 * 30};  // certificates expiring sooner are a warning
    bool check_files = true;                     // read and check the certificates and keys named
};

// Lints each backend.yml alone, then the set of them as one cluster. An unreadable or invalid
// file is a trellis::Error (Code::FileReadFailed / Code::ConfigInvalid) naming it.
std::vector<LintFinding> lint_backend_configs(const std::vector<std::filesystem::path>& files,
                                              const LintOptions& options = {});

}  // namespace trellis
