// <state-dir>/trellis-cluster.json: the bootstrap settings a node's etcd data was created with
// (etcd ignores them once data exists), written by whatever creates the data — the backend's
// first start, `cluster-config restore` — and compared by the backend's preflight.
#pragma once

#include <filesystem>
#include <string>

#include "cluster/backend_config.hpp"

namespace trellis::cluster {

// The record's JSON for `config` (etcd-name, etcd-initial-cluster, etcd-initial-cluster-token).
std::string cluster_record(const BackendConfig& config);
// <state-dir>/trellis-cluster.json
std::filesystem::path cluster_record_path(const BackendConfig& config);
// The settings etcd reads only when it bootstraps; with existing data it ignores them.
inline constexpr Key kBootstrapKeys[] = {Key::EtcdName, Key::EtcdInitialCluster, Key::EtcdInitialClusterToken};

}  // namespace trellis::cluster
