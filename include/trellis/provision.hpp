// Public API: provisioning, as `cluster-config provision` does it: from a spec to a directory
// holding the CAs and, per node and client, exactly the certificates, keys (0600) and configs it
// needs. It plans first (what to create, update or keep, and why), then applies the plan: new
// chains are verified with OpenSSL and Botan before anything is written, as one FileSet. What
// still fits the spec is kept; a file changed by hand is a Conflict, never replaced unless `force`.
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include "errors.hpp"
#include "spec.hpp"

namespace trellis {

struct ProvisionOptions {
    bool check = false;         // plan only: say what would change, write nothing
    bool force = false;         // replace files changed by hand (a Conflict becomes an Update)
    bool force_new_ca = false;  // replace existing CA keys (and so every certificate)
    unsigned threads = 0;       // key generation and signing; 0: every core
};

// Conflict: changed by hand and not replaced without `force`; provision() then writes nothing
// (Code::FileExists naming the file) unless `check` is set, which reports it.
enum class FileAction { Create, Update, Unchanged, Conflict };

struct FileChange {
    std::filesystem::path path{};  // relative to the output directory
    FileAction action = FileAction::Unchanged;
    std::string reason{};  // why it is created or updated ("new node", "SAN 10.0.0.9 added", ...)
};

struct ProvisionReport {
    std::vector<FileChange> files{};
    bool changed = false;
    Warnings warnings{};
    std::size_t certificates_issued = 0;
};

ProvisionReport provision(const ClusterSpec& spec, const std::filesystem::path& out,
                          const ProvisionOptions& options = {});

}  // namespace trellis
