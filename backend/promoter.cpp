#include "promoter.hpp"

#include <utility>

#include "log.hpp"

namespace trellis::backend {
namespace {

using Clock = std::chrono::steady_clock;

// etcd 3.4's answer while a learner is still behind the leader: expected, retried on the next round.
constexpr std::string_view kNotInSync = "can only promote a learner member which is in sync with leader";
// How long a started learner may stay behind before the log says so (once).
constexpr auto kSlowLearner = std::chrono::seconds(60);

}  // namespace

LearnerPromoter::LearnerPromoter(store::ClientOptions local, std::chrono::milliseconds interval)
    : local_(std::move(local)), interval_(interval) {}

LearnerPromoter::~LearnerPromoter() { stop(); }

void LearnerPromoter::start() {
    thread_ = std::thread([this] {
        std::unique_lock lock(mutex_);
        while (!wake_.wait_for(lock, interval_, [this] { return stopping_; })) {
            lock.unlock();
            try {
                tick();
            } catch (const std::exception& e) {
                log(Level::Debug, std::string("learner promotion: ") + e.what());  // next round tries again
            }
            lock.lock();
        }
    });
}

void LearnerPromoter::stop() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
}

// Every node logs the leader changes it sees (the promoter asks this node's etcd for its status every
// round anyway): an election is the first thing to look for when requests stalled.
void LearnerPromoter::note_leader(store::EtcdClient& client, const store::Status& status) {
    if (status.leader == last_leader_) return;
    const std::uint64_t before = std::exchange(last_leader_, status.leader);
    if (status.leader == 0) {
        log(Level::Warn, "this node's etcd has no leader (term " + std::to_string(status.raft_term) + ")");
        return;
    }
    std::string name;
    try {
        for (const auto& m : client.member_list().members)
            if (m.id == status.leader) name = m.name;
    } catch (const Error&) {
        // The name is a courtesy: the ID says who it is.
    }
    log(Level::Info, "etcd leader is " + store::hex_id(status.leader) + (name.empty() ? "" : " (" + name + ")") +
                         (status.leader == status.header.member_id ? ", this node" : "") + ", term " +
                         std::to_string(status.raft_term) + (before == 0 ? "" : ", was " + store::hex_id(before)));
}

void LearnerPromoter::tick() {
    store::EtcdClient client(local_);
    const store::Status status = client.status();
    note_leader(client, status);
    if (status.leader == 0 || status.leader != status.header.member_id) return;  // the leader's backend does it
    for (const auto& m : client.member_list().members) {
        if (!m.is_learner || m.client_urls.empty()) continue;  // a voter, or a learner that has not started
        const std::string who = store::hex_id(m.id) + (m.name.empty() ? "" : " (" + m.name + ")");
        try {
            client.member_promote(m.id);
            waiting_.erase(m.id);
            log(Level::Info, "promoted learner " + who + " to a voting member");
        } catch (const store::StoreError& e) {
            if (e.reason().find(kNotInSync) == std::string::npos) throw;
            const auto first = waiting_.emplace(m.id, Clock::now()).first->second;
            if (Clock::now() - first > kSlowLearner && Clock::now() - first <= kSlowLearner + interval_)
                log(Level::Warn, "learner " + who + " is still catching up with the leader after 60 s; it is " +
                                     "promoted as soon as etcd accepts it");
        }
    }
}

}  // namespace trellis::backend
