// Plans and DIR snapshots in memory, for the tests of the plan and of what reads a provisioned DIR
// (check-expiration's report): produce() makes real keys and certificates but writes nothing.
#pragma once

#include <set>
#include <stdexcept>
#include <string>

#include "cluster/plan.hpp"
#include "cluster/provision.hpp"
#include "cluster/spec.hpp"

namespace trellis::cluster::plan_fixture {

inline Spec spec_of(const std::string& text) {
    Warnings w;
    return load_spec(text, "spec.yml", w);
}

inline const std::string kThree =
    "cluster: {name: p}\nnodes:\n  - {name: a, address: 10.2.0.1}\n  - {name: b, address: 10.2.0.2}\n"
    "  - {name: c, address: 10.2.0.3}\nclients:\n  - name: admin\n";

// What DIR would hold after applying `plan` (the manifest included), without touching a disk.
inline DirSnapshot applied(const Plan& plan, const Spec& spec, DirSnapshot before = {}) {
    Produced p = produce(plan, spec, {});
    for (auto& [path, state] : p.files) before.files[path] = std::move(state);
    for (const auto& f : plan.removed) before.files.erase(f.path);
    before.written = std::move(p.manifest);
    before.revoked = plan.revoked;  // the manifest's record as apply() writes it
    return before;
}

// The paths a plan changes (any action but Unchanged).
inline std::set<std::string> changed(const Plan& plan) {
    std::set<std::string> out;
    for (const auto& f : plan.files)
        if (f.action != FileAction::Unchanged) out.insert(f.path.string());
    return out;
}

// The planned file at `path`; std::runtime_error when the plan has none (a test failure).
inline const PlannedFile& file(const Plan& plan, const std::string& path) {
    const PlannedFile* f = plan.file(path);
    if (!f) throw std::runtime_error("not planned: " + path);
    return *f;
}

}  // namespace trellis::cluster::plan_fixture
