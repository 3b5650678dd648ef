// backend.yml, then lint without touching files (what preflight does first).
#include "cluster/backend_config.hpp"
#include "cluster/lint.hpp"
#include "fuzz.hpp"

TRELLIS_FUZZ_TARGET([](std::string_view in) {
    const auto config = trellis::cluster::BackendConfig::from_yaml(in, "/nonexistent/backend.yml");
    trellis::cluster::LintOptions options;
    options.check_files = false;
    trellis::cluster::lint_node(config, options);
    config.etcd_arguments();
})
