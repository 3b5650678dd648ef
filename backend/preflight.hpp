// Checks made before the backend starts anything: how the API is served (plain
// HTTP only when asked for), cluster-config's lint of this node (errors stop the
// start) and whether state-dir holds another cluster's data (etcd would silently
// ignore the new initial-cluster settings).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "cluster/backend_config.hpp"
#include "cluster/state_record.hpp"

namespace trellis::backend {

struct PreflightResult {
    std::vector<std::string> errors;    // one line each; any => do not start
    std::vector<std::string> warnings;  // one line each
};

PreflightResult preflight(const cluster::BackendConfig& config);

// What state-dir/trellis-cluster.json records about the cluster the data belongs to (libtrellis/cluster).
using cluster::cluster_record;
using cluster::cluster_record_path;
// A warning when state-dir holds etcd data recorded for a different cluster ("" otherwise).
std::string state_dir_warning(const cluster::BackendConfig& config);

}  // namespace trellis::backend
