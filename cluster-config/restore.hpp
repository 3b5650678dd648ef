// cluster-config restore (docs/cluster-config.md, docs/recovery.md): a snapshot becomes a new cluster.
// The snapshot is checked first (etcd's SHA-256, then `etcdctl snapshot status`), no member's data
// dir may exist, the configs are re-rendered with a new cluster token, and every member's data is
// prepared by the installed etcdctl (`snapshot restore`) under <state-root>/<node>.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "cluster/provision.hpp"
#include "cluster/spec.hpp"
#include "store/snapshot.hpp"

namespace trellis::restore {

struct RestoreRequest {
    std::filesystem::path snapshot;
    std::filesystem::path out;         // the provisioned directory (certificates are reused, configs re-rendered)
    std::filesystem::path state_root;  // each member's state dir is <state_root>/<node>
    std::filesystem::path etcdctl;     // the installed etcdctl
    cluster::ProvisionOptions provision;
};

struct RestoredMember {
    std::string name;
    std::filesystem::path config;     // <out>/<node>/backend.yml
    std::filesystem::path state_dir;  // <state_root>/<node>
};

struct RestoreResult {
    store::SnapshotStatus snapshot;
    std::string token;  // the new cluster's etcd-initial-cluster-token
    cluster::ProvisionResult provisioned;
    std::vector<RestoredMember> members;
};

// "<spec token>-restored-<UTC time>-<random>": a token no earlier cluster had.
std::string restored_token(const std::string& spec_token);

// All or nothing for the data dirs: a failure removes the ones this call created (never older ones).
RestoreResult restore_cluster(const cluster::Spec& spec, const RestoreRequest& request);

}  // namespace trellis::restore
