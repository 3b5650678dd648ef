#include "restore.hpp"

#include <ctime>
#include <random>

#include "cluster/backend_config.hpp"
#include "cluster/state_record.hpp"
#include "core/error.hpp"
#include "core/files.hpp"
#include "core/time.hpp"

namespace fs = std::filesystem;

namespace trellis::restore {
namespace {

// The rendered node's settings, with its state dir where the restored data goes.
cluster::BackendConfig member_config(const fs::path& config_path, const fs::path& state_dir) {
    cluster::BackendConfig config = cluster::BackendConfig::from_yaml(read_file(config_path), config_path.string());
    config.set(cluster::Key::StateDir, {fs::absolute(state_dir).string()}, cluster::Origin{"--state-root", 0});
    return config;
}

void restore_member(const RestoreRequest& request, const cluster::BackendConfig& config, const std::string& token) {
    const fs::path state_dir = config.get(cluster::Key::StateDir);
    std::error_code ec;
    fs::create_directories(state_dir, ec);
    if (ec) throw Error(Code::FileWriteFailed, located(state_dir.string(), "cannot create: " + ec.message()));
    fs::permissions(state_dir, fs::perms::owner_all, ec);  // etcd's data is the cluster's secrets
    store::RestoreMember member{config.get(cluster::Key::EtcdName), config.get(cluster::Key::EtcdInitialCluster),
                                config.get_list(cluster::Key::EtcdInitialAdvertisePeerUrls), token, state_dir / "etcd"};
    store::restore_snapshot(request.etcdctl, request.snapshot, member);
    // The record the backend's preflight compares: this data belongs to the restored cluster.
    write_file_atomic(cluster::cluster_record_path(config), cluster::cluster_record(config), kPublicMode);
}

}  // namespace

std::string restored_token(const std::string& spec_token) {
    char suffix[8];
    std::snprintf(suffix, sizeof suffix, "%04x", static_cast<unsigned>(std::random_device{}() & 0xffff));
    return spec_token + "-restored-" + utc_stamp() + "-" + suffix;
}

RestoreResult restore_cluster(const cluster::Spec& spec, const RestoreRequest& request) {
    if (spec.store != cluster::StoreKind::Embedded)
        throw Error(Code::SpecInvalid, located(spec.source,
                                               "store: restore prepares the embedded etcd's data; for an "
                                               "external etcd use etcdctl snapshot restore there"));
    RestoreResult result;
    result.snapshot = store::snapshot_status(request.etcdctl, request.snapshot);
    std::error_code ec;
    for (const auto& node : spec.nodes)
        if (const fs::path data = request.state_root / node.name / "etcd"; fs::exists(data, ec))
            throw Error(Code::FileExists, located(data.string(),
                                                  "already exists: restore never touches existing "
                                                  "etcd data; move it away or choose another --state-root"));

    cluster::Spec restored = spec;
    restored.token = result.token = restored_token(spec.token);
    result.provisioned = cluster::provision(restored, request.out, request.provision);

    std::vector<fs::path> created;
    try {
        for (const auto& node : spec.nodes) {
            const fs::path state_dir = request.state_root / node.name,
                           config_path = request.out / node.name / "backend.yml";
            const cluster::BackendConfig config = member_config(config_path, state_dir);
            created.push_back(state_dir / "etcd");
            restore_member(request, config, result.token);
            result.members.push_back({node.name, config_path, config.get(cluster::Key::StateDir)});
        }
    } catch (...) {
        for (const auto& data : created) fs::remove_all(data, ec);  // only what this call created
        throw;
    }
    return result;
}

}  // namespace trellis::restore
