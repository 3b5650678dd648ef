// Learners become voters without anyone's help: `trellisctl cluster member-add` adds a new member as an
// etcd learner, and the backend whose etcd leads the cluster promotes every started learner once etcd
// accepts it (etcd 3.4 refuses MemberPromote until the learner has caught up with the leader). The
// leader's backend does it because a learner itself may not call the cluster API, and because it is
// the one member that always exists while the cluster can change membership at all.
#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include "store/etcd_client.hpp"

namespace trellis::backend {

class LearnerPromoter {
  public:
    // `local`: this node's own etcd (its advertised client URL) and the TLS files to reach it.
    explicit LearnerPromoter(store::ClientOptions local, std::chrono::milliseconds interval = std::chrono::seconds(1));
    ~LearnerPromoter();  // stop()
    void start();
    void stop();
    // One round, as the thread runs it: if this member leads, try to promote each started learner.
    void tick();

  private:
    void note_leader(store::EtcdClient& client, const store::Status& status);  // logs a change of leader

    store::ClientOptions local_;
    std::uint64_t last_leader_ = 0;  // as last seen; 0: none yet
    std::chrono::milliseconds interval_;
    std::map<std::uint64_t, std::chrono::steady_clock::time_point> waiting_;  // learner -> first refusal
    std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace trellis::backend
