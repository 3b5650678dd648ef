// This node's lifecycle around its etcd data (docs/backend.md, "Node lifecycle"): the state dir is
// checked before etcd starts (permissions name the path; another cluster's data is refused at once),
// why etcd stopped is told in one line with the command that fixes it, and a removed member's stale
// data is moved aside, never deleted, when --move-removed-data asks for it.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "cluster/backend_config.hpp"
#include "core/error.hpp"

namespace trellis::backend {

// Code::FilePermissions naming the first path under state-dir this user may not use (with its
// owner and mode), Code::StoreDataForeign when state-dir/trellis-cluster.json records another
// cluster token than the config's. Creates state-dir (0700) when missing.
void check_state_dir(const cluster::BackendConfig& config);

// Whether state-dir already holds etcd data (etcd then ignores the bootstrap settings).
bool has_etcd_data(const cluster::BackendConfig& config);

// Moves state-dir/etcd to state-dir/etcd.removed-<UTC time> and returns where it went.
std::filesystem::path move_removed_data(const cluster::BackendConfig& config);

// The error for an etcd that exited or is failing, from its last log lines: removed member (exit 4),
// damaged data, another cluster's data, permissions, each naming the directory and the fix; a plain
// Code::StoreProcessFailed with `what` (which carries the lines) when none of them applies.
Error explain_etcd_failure(const cluster::BackendConfig& config, const std::vector<std::string>& lines,
                           const std::string& what);

}  // namespace trellis::backend
