// Quorum-loss recovery (docs/recovery.md): `trellis-backend recover` turns a surviving member's
// data into a one-member cluster with etcd's own --force-new-cluster, after checking that no
// quorum of the members is still reachable (two clusters with one history would split it).
#pragma once

#include <chrono>
#include <ostream>
#include <string>
#include <vector>

#include "cluster/backend_config.hpp"
#include "store/etcd_client.hpp"

namespace trellis::backend {

struct RecoverOptions {
    std::string etcd_binary;                        // "" : etcd next to trellis-backend, else on PATH
    std::chrono::seconds ready_timeout{60};         // for the one-member etcd to serve
    std::chrono::milliseconds probe_timeout{1000};  // per peer, to tell a live member from a lost one
};

// Peers of etcd-initial-cluster other than this node, as name and peer URL.
struct Peer {
    std::string name;
    std::string peer_url;
};
std::vector<Peer> other_members(const cluster::BackendConfig& config);

// The whole recovery; writes what it did and what to do next to `out`. Code::QuorumReachable when
// enough members answer that starting this node normally would restore the quorum.
// `store` reaches this node's own etcd (as the backend does).
int recover(const cluster::BackendConfig& config, const store::ClientOptions& store, const RecoverOptions& options,
            std::ostream& out);

}  // namespace trellis::backend
