// Cluster health as Sensu reports it: every member checked on its own client URLs
// (a linearizable read, so a member cut off from quorum is unhealthy), all in
// parallel under one deadline, plus etcd's alarm list.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "store/etcd_client.hpp"

namespace trellis::store {

struct MemberHealth {
    std::uint64_t id = 0;
    std::string name;
    std::string
        error;  // empty when healthy; otherwise why, e.g. "dial tcp 127.0.0.12:2379: connect: connection refused"
    bool healthy = false;
    bool unreachable = false;  // none of its client URLs took a connection (not part of the API's answer)
};

struct ClusterHealth {
    ResponseHeader header;
    std::vector<MemberHealth> members;
    std::vector<Alarm> alarms;
    std::string error;     // set when no member list could be had at all
    bool healthy() const;  // a member list, every member healthy, no alarm
};

// Checks one member on its own client URLs (with `options`' TLS files), bounded by `timeout`: its status
// first (a learner, or a member that knows no leader, is unhealthy at once), then a linearizable read. For
// waiting on a member; check_cluster_health reads first. With `options.connections`, on kept connections.
MemberHealth check_member(const Member& member, const ClientOptions& options, std::chrono::milliseconds timeout);

// Whether this node's etcd (`options.endpoints.front()`) can serve: a started voting member that knows a
// leader and answers a linearizable read. Always returns within `timeout` (the check is left to finish
// on its own). For load balancers (GET /readyz).
struct Readiness {
    bool ready = false;
    std::string reason;  // why not, one line; empty when ready
};
Readiness check_readiness(const ClientOptions& options, std::chrono::milliseconds timeout);

// The member list a process's last cluster health check saw. Membership changes rarely and /health is asked
// every few seconds, so the next check starts reading these members at once, beside the member list, and
// keeps those reads only if the new list has the same members on the same URLs (else it reads them again):
// the answer is the same, but a healthy cluster costs one gateway call on its critical path, not two.
class KnownMembers {
  public:
    std::vector<Member> get() const {
        std::lock_guard lock(mutex_);
        return members_;
    }
    void set(std::vector<Member> members) {
        std::lock_guard lock(mutex_);
        members_ = std::move(members);
    }

  private:
    mutable std::mutex mutex_;
    std::vector<Member> members_;
};

// The whole cluster: the alarm list and the member list from `options.endpoints` at once, then every
// member in parallel, each read first (its status only when the read fails or is slow); with
// `options.known_members`, the members last seen are read beside the member list. Returns within `timeout`
// (plus scheduling noise) whatever etcd does; checks still running at the deadline, or once a quorum of
// the voters takes no connection, are reported unhealthy and left to finish on their own.
ClusterHealth check_cluster_health(const ClientOptions& options, std::chrono::milliseconds timeout);

}  // namespace trellis::store
