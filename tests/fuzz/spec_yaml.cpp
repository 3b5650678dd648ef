// Cluster specs: every problem must come back as a located error, never a throw of another kind.
#include "cluster/spec.hpp"
#include "fuzz.hpp"

TRELLIS_FUZZ_TARGET([](std::string_view in) {
    const auto result = trellis::cluster::parse_spec(in, "spec.yml");
    if (result.spec && !result.errors.empty()) std::abort();  // a spec is only returned without errors
})
