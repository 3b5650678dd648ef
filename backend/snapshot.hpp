// Snapshots in the backend (docs/backend.md, docs/recovery.md): the admin endpoint that streams one
// from this node's etcd (GET /api/trellis/v1/snapshot), and the scheduled snapshots of
// snapshot-interval, taken by the leader only and reported in /health and the log.
#pragma once

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "cluster/backend_config.hpp"
#include "http_server.hpp"
#include "store/etcd_client.hpp"

namespace trellis::backend {

// Where the leader records the last scheduled snapshot, so every node (and a new leader) knows it.
inline constexpr std::string_view kLastSnapshotKey = "/trellis/snapshots/last";

// GET api::kSnapshotPath: etcd's snapshot (the db and its SHA-256, as etcdctl saves it) from a member that
// has a leader, in an unlinked 0600 file under `scratch_dir` that the answer is sent from;
// Code::StoreUnavailable (503) when no member has a leader. The API serves it only to clients with a
// verified certificate: a snapshot holds every key.
HttpResponse serve_snapshot(const store::ClientOptions& store, const std::filesystem::path& scratch_dir);

struct SnapshotSchedule {
    std::chrono::seconds interval{0};  // 0: no scheduled snapshots
    std::filesystem::path dir;
    long long retain = 0;
};
// From snapshot-interval, snapshot-dir (default <state-dir>/snapshots) and snapshot-retain.
SnapshotSchedule snapshot_schedule(const cluster::BackendConfig& config);

// "snapshot-20261202T041300Z.db": names that sort by time.
std::string snapshot_file_name(std::chrono::system_clock::time_point when);

class SnapshotScheduler {
  public:
    SnapshotScheduler(SnapshotSchedule schedule, store::ClientOptions store);
    ~SnapshotScheduler();
    void start();
    void stop();
    // The "Snapshot" field of /health: the schedule and the cluster's last scheduled snapshot.
    nlohmann::ordered_json health() const;

  private:
    void run();
    void tick();
    void take(store::EtcdClient& client, std::uint64_t member_id);
    void prune() const;

    SnapshotSchedule schedule_;
    store::ClientOptions store_;
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    nlohmann::json last_;     // the record under kLastSnapshotKey (null until known)
    std::string last_error_;  // this node's last failure, "" after a success
    std::thread thread_;
};

}  // namespace trellis::backend
