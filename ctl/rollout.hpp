// `trellisctl cluster rollout`: after new certificate files (a renewal, a CA rotation stage) are in
// place on the nodes, each backend restarts its etcd so that etcd reads them, one node at a time
// (POST /api/trellis/v1/etcd/restart on that node's API: leadership moves off it first; the answer
// comes once it serves again and has caught up), waiting for the whole cluster to be healthy before
// the next node. Exit 0 only when every port of every node then serves the certificate on its disk.
#pragma once

#include <chrono>
#include <ostream>

#include "client.hpp"
#include "views.hpp"

namespace trellis::ctl {

struct RolloutOptions {
    std::chrono::seconds healthy_wait{120};            // for the cluster to be healthy again after each node
    std::function<void(const std::string&)> progress;  // one line per step, to stderr
};

int cluster_rollout(const ApiClient& client, const RolloutOptions& options, Format format, std::ostream& out);

}  // namespace trellis::ctl
