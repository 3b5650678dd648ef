#include "node_state.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <ctime>

#include <nlohmann/json.hpp>

#include "core/files.hpp"
#include "core/time.hpp"
#include "preflight.hpp"
#include "store/etcd_failure.hpp"

namespace fs = std::filesystem;

namespace trellis::backend {
namespace {

constexpr cluster::Key kToken = cluster::Key::EtcdInitialClusterToken;

std::string mode_text(mode_t mode) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
    return buf;
}

// The first of `path` and what lies below it (three levels: etcd/member/wal/<file>) this user may not use.
void check_access(const fs::path& path, int depth) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return;  // missing: created later, by us
    const int need = S_ISDIR(st.st_mode) ? (R_OK | W_OK | X_OK) : (R_OK | W_OK);
    if (::access(path.c_str(), need) != 0)
        throw Error(Code::FilePermissions,
                    path.string() + ": permission denied for uid " + std::to_string(::geteuid()) + " (owner uid " +
                        std::to_string(st.st_uid) + ", mode " + mode_text(st.st_mode) +
                        "): run trellis-backend as that user, or give it the state dir (chown -R <user> <state-dir>)");
    if (!S_ISDIR(st.st_mode) || depth == 0) return;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(path, ec)) check_access(entry.path(), depth - 1);
}

std::string peer_url(const cluster::BackendConfig& config) {
    const auto urls = config.get_list(cluster::Key::EtcdInitialAdvertisePeerUrls);
    return urls.empty() ? "PEER-URL" : urls.front();
}

}  // namespace

bool has_etcd_data(const cluster::BackendConfig& config) {
    std::error_code ec;
    return fs::exists(fs::path(config.get(cluster::Key::StateDir)) / "etcd" / "member", ec);
}

void check_state_dir(const cluster::BackendConfig& config) {
    const fs::path state_dir = config.get(cluster::Key::StateDir);
    check_access(state_dir, 4);
    std::error_code ec;
    fs::create_directories(state_dir, ec);
    if (ec)
        throw Error(Code::FileWriteFailed, "state-dir " + state_dir.string() + ": cannot create it: " + ec.message());
    fs::permissions(state_dir, fs::perms::owner_all, ec);  // etcd's data is the cluster's secrets
    if (!has_etcd_data(config)) return;
    nlohmann::json recorded;
    try {
        recorded = nlohmann::json::parse(read_file(cluster_record_path(config)));
    } catch (const std::exception&) {
        return;  // no record: preflight warns, and etcd's own "cluster ID mismatch" is caught as it starts
    }
    const std::string key(cluster::key_name(kToken));
    const std::string was = recorded.value(key, std::string()), now = config.get(kToken);
    if (was != now)
        throw Error(Code::StoreDataForeign, "state-dir " + state_dir.string() + " holds the data of another cluster (" +
                                                key + " \"" + was + "\", this config says \"" + now +
                                                "\"): start with another --state-dir, or move " +
                                                (state_dir / "etcd").string() + " away to join this cluster afresh");
}

fs::path move_removed_data(const cluster::BackendConfig& config) {
    const fs::path state_dir = config.get(cluster::Key::StateDir);
    const fs::path to = state_dir / ("etcd.removed-" + utc_stamp());
    std::error_code ec;
    fs::rename(state_dir / "etcd", to, ec);
    if (ec)
        throw Error(Code::FileWriteFailed,
                    "cannot move " + (state_dir / "etcd").string() + " to " + to.string() + ": " + ec.message());
    write_file_atomic(cluster_record_path(config), cluster_record(config), kPublicMode);
    return to;
}

Error explain_etcd_failure(const cluster::BackendConfig& config, const std::vector<std::string>& lines,
                           const std::string& what) {
    const fs::path data = fs::path(config.get(cluster::Key::StateDir)) / "etcd";
    const std::string name = config.get(cluster::Key::EtcdName);
    const auto d = store::diagnose_etcd_lines(lines);
    if (!d) return Error(Code::StoreProcessFailed, what);
    const std::string etcd_says = " (etcd: " + d->evidence + ")";
    switch (d->failure) {
        case store::EtcdFailure::Removed:
            return Error(Code::MemberRemoved,
                         "member " + name + " was removed from the cluster" + etcd_says + "; its data in " +
                             data.string() + " is stale: to rejoin, run `trellisctl cluster member-add " + name + " " +
                             peer_url(config) +
                             "` and start with --move-removed-data --etcd-initial-cluster-state existing (the data "
                             "moves to " +
                             data.string() + ".removed-<time>; nothing is deleted)");
        case store::EtcdFailure::DamagedData:
            return Error(Code::StoreDataDamaged,
                         "etcd's data in " + data.string() + " is damaged" + etcd_says +
                             ": replace this member (`trellisctl cluster member-replace " + name + " " +
                             peer_url(config) +
                             "`, then start with an empty state-dir) or restore the cluster from "
                             "a snapshot (docs/recovery.md)");
        case store::EtcdFailure::ForeignData:
            return Error(Code::StoreDataForeign,
                         "etcd's data in " + data.string() + " belongs to another cluster than its peers'" + etcd_says +
                             ": start with an empty --state-dir, or move " + data.string() +
                             " away; check etcd-initial-cluster and etcd-initial-cluster-token");
        case store::EtcdFailure::Permission:
            break;
    }
    return Error(Code::FilePermissions, "etcd may not use its files" + etcd_says +
                                            ": run trellis-backend as the owner of " + data.string() +
                                            ", or chown -R <user> " + config.get(cluster::Key::StateDir));
}

}  // namespace trellis::backend
