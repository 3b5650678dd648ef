#include "store/health.hpp"

#include <algorithm>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

namespace trellis::store {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// Results of detached workers: each fills its slot; the waiter gives up at its deadline
// and the workers (bounded by their own HTTP timeouts) finish later into a state they co-own.
template <typename T>
class Slots {
  public:
    explicit Slots(std::size_t n) : values_(n) {}
    void set(std::size_t i, T value) {
        std::lock_guard lock(mutex_);
        values_[i] = std::move(value);
        ++done_;
        cv_.notify_all();
    }
    std::vector<std::optional<T>> wait_until(Clock::time_point deadline) {
        std::unique_lock lock(mutex_);
        cv_.wait_until(lock, deadline, [&] { return done_ == values_.size(); });
        return values_;
    }

  private:
    std::mutex mutex_;
    std::condition_variable cv_;
    std::vector<std::optional<T>> values_;
    std::size_t done_ = 0;
};

milliseconds left_until(Clock::time_point deadline) {
    return std::max(milliseconds(1), std::chrono::duration_cast<milliseconds>(deadline - Clock::now()));
}

ClientOptions bounded(ClientOptions options, milliseconds budget) {
    options.connect_timeout = std::min(options.connect_timeout, budget);
    options.request_timeout = budget;
    return options;
}

std::string seconds_text(milliseconds ms) {
    const auto tenths = ms.count() / 100;
    return std::to_string(tenths / 10) + (tenths % 10 ? "." + std::to_string(tenths % 10) : "") + "s";
}

}  // namespace

bool ClusterHealth::healthy() const {
    return error.empty() && !members.empty() && alarms.empty() &&
           std::all_of(members.begin(), members.end(), [](const MemberHealth& m) { return m.healthy; });
}

// Why a member cannot serve a linearizable read, from its own status ("" when it might): a member that
// knows no leader has lost quorum and would only time out, so it is reported at once instead.
std::string status_problem(const Status& status) {
    if (status.is_learner) return "a learner: not yet a voting member (promoted once it has caught up)";
    if (status.leader == 0) return "etcdserver: no leader (this member cannot reach a quorum of the cluster)";
    return {};
}

MemberHealth check_member(const Member& member, const ClientOptions& options, milliseconds timeout) {
    MemberHealth health{member.id, member.name, {}, false};
    if (member.client_urls.empty()) {
        health.error = "member has not started yet (it advertises no client URLs)";
        return health;
    }
    const auto deadline = Clock::now() + timeout;
    for (const auto& text : member.client_urls) {
        try {
            const Url url = parse_url(text, UrlKind::Client, "client URL of member " + hex_id(member.id));
            ClientOptions own = bounded(options, left_until(deadline));
            own.endpoints = {text};
            EtcdClient client(own);
            // Status is answered locally, without quorum: it tells a learner or a leaderless member fast.
            const std::string problem =
                status_problem(decode_status(client.call_on(url, "/v3/maintenance/status", nlohmann::json::object())));
            if (!problem.empty()) throw Error(Code::StoreUnavailable, problem);
            // Sensu's check: a linearizable Get of "health" needs the member to reach quorum.
            client.call_on(url, "/v3/kv/range", {{"key", "aGVhbHRo"}});  // base64("health")
            health.healthy = true;
            health.error.clear();
            return health;
        } catch (const Error& e) {
            if (health.error.empty()) health.error = e.what();
        }
        if (Clock::now() >= deadline) break;
    }
    return health;
}

Readiness check_readiness(const ClientOptions& options, milliseconds timeout) {
    if (options.endpoints.empty()) return {false, "no etcd client URL configured"};
    // A detached worker and a waiter with a deadline: the answer comes in time whatever etcd does.
    auto slot = std::make_shared<Slots<MemberHealth>>(1);
    const Member self{0, "", {}, {options.endpoints.front()}, false};
    std::thread([slot, self, options, timeout] { slot->set(0, check_member(self, options, timeout)); }).detach();
    const auto done = slot->wait_until(Clock::now() + timeout)[0];
    if (!done) return {false, "etcd gave no answer within " + seconds_text(timeout)};
    return {done->healthy, done->error};
}

ClusterHealth check_cluster_health(const ClientOptions& options, milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    ClusterHealth result;

    // The member list is answered locally by any member (no quorum needed in etcd 3.4),
    // but an unreachable endpoint can take its whole budget: leave the checks half.
    auto list_slot = std::make_shared<Slots<std::pair<MemberList, std::string>>>(1);
    const auto list_budget = std::max(milliseconds(1), timeout / 2);
    std::thread([list_slot, opts = bounded(options, list_budget)] {
        try {
            EtcdClient client(opts);
            list_slot->set(0, {client.member_list(), {}});
        } catch (const std::exception& e) {
            list_slot->set(0, {{}, e.what()});
        }
    }).detach();
    const auto list = list_slot->wait_until(Clock::now() + list_budget)[0];
    if (!list) {
        result.error = "no etcd endpoint answered the member list within " + seconds_text(list_budget);
        return result;
    }
    if (!list->second.empty()) {
        result.error = list->second;
        return result;
    }
    result.header = list->first.header;
    const auto& members = list->first.members;

    auto checks = std::make_shared<Slots<MemberHealth>>(members.size());
    const auto budget = left_until(deadline);
    for (std::size_t i = 0; i < members.size(); ++i)
        std::thread([checks, i, member = members[i], options, budget] {
            checks->set(i, check_member(member, options, budget));
        }).detach();
    auto alarm_slot = std::make_shared<Slots<std::vector<Alarm>>>(1);
    std::thread([alarm_slot, opts = bounded(options, budget)] {
        try {
            EtcdClient client(opts);
            alarm_slot->set(0, client.alarms());
        } catch (const std::exception&) {
            alarm_slot->set(0, {});  // alarms need quorum; members already tell why it is missing
        }
    }).detach();

    const auto done = checks->wait_until(deadline);
    for (std::size_t i = 0; i < members.size(); ++i)
        result.members.push_back(
            done[i] ? *done[i]
                    : MemberHealth{members[i].id, members[i].name, "no answer within " + seconds_text(timeout), false});
    // Alarms go through raft: without quorum they only time out. When a member is already unhealthy the
    // answer is 503 anyway, so take them only if they are in, rather than wait out the deadline.
    const bool all_ok =
        std::all_of(result.members.begin(), result.members.end(), [](const MemberHealth& m) { return m.healthy; });
    if (auto alarms = alarm_slot->wait_until(all_ok ? std::max(deadline, Clock::now()) : Clock::now())[0])
        result.alarms = std::move(*alarms);
    return result;
}

}  // namespace trellis::store
