// Restarting this node's supervised etcd on an admin's request (POST /api/trellis/v1/etcd/restart,
// what `trellisctl cluster rollout` calls on one node after another): etcd reads a changed trust bundle
// only when it starts (etcd #11555), while its own certificate and key are re-read per handshake.
// If this member leads, leadership moves first (etcd's MoveLeader); the answer comes once etcd serves
// again and has caught up, and says whether every port now serves the certificate on disk.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>

#include "cluster/backend_config.hpp"
#include "store/etcd_client.hpp"
#include "store/etcd_process.hpp"

namespace trellis::backend {

// Hands a request from an API worker to the supervising (main) thread, which must do the restart:
// etcd is forked from the thread that started it (PR_SET_PDEATHSIG follows the forking thread).
class RestartRequests {
  public:
    // API worker: waits up to `limit` for the main thread's answer. Code::StoreUnavailable when another
    // restart is running or no answer came in time.
    nlohmann::ordered_json request(std::chrono::seconds limit);
    // Main thread: whether one waits; then answer it (the body, or the error to send).
    bool pending() const;
    void answer(nlohmann::ordered_json body, std::optional<Error> error = std::nullopt);

  private:
    mutable std::mutex mutex_;
    std::condition_variable done_;
    bool waiting_ = false, answered_ = false;
    nlohmann::ordered_json body_;
    std::optional<Error> error_;
};

struct RestartLimits {
    std::chrono::milliseconds stop_grace{10000};
    std::chrono::seconds ready{60};  // etcd serving again and caught up
};

// The restart itself, on the main thread: refuses (Code::StoreUnavailable) when the other voters
// without this one are not a quorum; moves leadership off this member; stops and starts etcd; waits
// until it serves and its raft index reaches the leader's from before the stop. Then compares what
// each port serves with the certificate file on disk. {"Node","OldPid","NewPid","LeaderMovedTo",
// "Seconds","Serving":[{"Port","URL","File","OnDisk","Served","Match"}]}
nlohmann::ordered_json restart_etcd(const cluster::BackendConfig& config, const store::ClientOptions& store,
                                    store::EtcdProcess& etcd, const RestartLimits& limits);

// Every port this node serves (client, peer, API) and whether it serves the certificate file on disk
// (by serial). Part of restart_etcd's answer.
nlohmann::ordered_json serving_vs_disk(const cluster::BackendConfig& config, const store::ClientOptions& store);

}  // namespace trellis::backend
