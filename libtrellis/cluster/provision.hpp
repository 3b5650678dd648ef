// Provisioning: from a spec to a directory holding the CA(s) and, per node and per client, exactly the
// certificates, keys and configs it needs. Idempotent: read_dir() -> make_plan() (pure, plan.hpp) ->
// apply(), which issues only what the plan says (new node, new SAN, near expiry), verifies every new
// chain with OpenSSL and Botan, and writes everything as one FileSet (or, on a conflict, nothing).
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "cluster/plan.hpp"
#include "core/error.hpp"

namespace trellis::cluster {

struct ProvisionOptions {
    PlanOptions plan;
    bool check = false;    // plan only: say what would change, write nothing
    unsigned threads = 0;  // key generation, signing and staging the files; 0: every core
    // Called from the coordinating thread as certificates get issued: (done, total).
    std::function<void(size_t, size_t)> progress;
};

struct FileChange {
    std::filesystem::path path;  // relative to the output directory
    FileAction action;
    std::string reason;  // why it is created or updated ("new node", "SAN 10.0.0.9 added", ...)
};

struct ProvisionResult {
    std::vector<FileChange> files;
    std::vector<FileChange> removed;  // deleted after the commit (a finished rotation's new-CA pair)
    bool changed = false;
    Warnings warnings;
    size_t certificates_issued = 0;  // or, for a plan, to issue
    std::string to_json() const;     // {"changed":..,"files":[{"path","action","reason"}],"warnings":[..]}
};

// The plan as a result (what --check reports).
ProvisionResult plan_result(const Plan& plan);

// The files a plan writes with their contents, and the manifest after it: new CAs, keys and certificates
// made, each new chain verified with OpenSSL and with Botan (Code::Internal if either refuses). No I/O.
struct Produced {
    std::vector<std::pair<std::filesystem::path, FileState>> files;  // every planned file, relative to DIR
    std::map<std::filesystem::path, std::string> manifest;
    Warnings warnings;
};
Produced produce(const Plan& plan, const Spec& spec, const ProvisionOptions& options);

// Carries out `plan` in `out`: refuses (Code::FileExists, naming the first conflict, writing nothing) while
// the plan has a Conflict; otherwise makes the new CAs, keys and certificates, verifies each new chain with
// OpenSSL and with Botan (Code::Internal if either refuses), and commits every file plus the manifest.
ProvisionResult apply(const Plan& plan, const Spec& spec, const std::filesystem::path& out,
                      const ProvisionOptions& options);

// read_dir + make_plan + (options.check ? plan_result : apply).
ProvisionResult provision(const Spec& spec, const std::filesystem::path& out, const ProvisionOptions& options);

}  // namespace trellis::cluster
