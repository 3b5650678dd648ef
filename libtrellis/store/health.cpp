#include "store/health.hpp"

#include <algorithm>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>

#include "core/parallel.hpp"

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
    // Until every slot is set, `enough` says the results so far decide, or `deadline`.
    template <typename Enough>
    std::vector<std::optional<T>> wait_until(Clock::time_point deadline, Enough enough) {
        std::unique_lock lock(mutex_);
        cv_.wait_until(lock, deadline, [&] { return done_ == values_.size() || enough(values_); });
        return values_;
    }
    std::vector<std::optional<T>> wait_until(Clock::time_point deadline) {
        return wait_until(deadline, [](const auto&) { return false; });
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

// Runs `work` on a detached thread into slot `i` of `slots`: the waiter keeps its deadline whatever etcd
// does, and the worker, bounded by its own HTTP timeouts, finishes later into state it co-owns.
template <typename T, typename Work>
void detach_into(const std::shared_ptr<Slots<T>>& slots, std::size_t i, Work work) {
    run_detached([slots, i, work = std::move(work)] { slots->set(i, work()); });
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

namespace {

// Why `work` failed, "" when it did not: a result that crosses threads as text.
template <typename Work>
std::string failure_of(Work work) {
    try {
        work();
        return {};
    } catch (const std::exception& e) {
        return e.what();
    }
}

// How long a member's linearizable read may take before its status is asked why. A healthy member answers
// in a few ms even on a loaded machine (p99 6 ms in bench/health); one without a leader would only time
// out, and a /health polled while the cluster forms (the backend-startup bench, every 5 ms) sees it this
// much later.
constexpr milliseconds kReadPatience(20);

// A Get of "health" (base64), as Sensu's check: linearizable, so it needs the member to reach quorum.
void sensu_read(EtcdClient& client, const Url& url) { client.call_on(url, "/v3/kv/range", {{"key", "aGVhbHRo"}}); }

// Whom a check expects: a member being waited for (start-up) is asked its status first, which tells a
// learner or a member without a leader at once, then read. A member of a running cluster (/health) is
// read first, and its answer alone makes it healthy: one gateway call, not two.
enum class Order { StatusFirst, ReadFirst };

// The status (answered locally, without quorum) as an error when it shows the member cannot serve; thrown
// as is when the member cannot be reached (an UnreachableError counts towards losing quorum).
void check_status(EtcdClient& client, const Url& url) {
    const std::string problem = status_problem(client.status_on(url));
    if (!problem.empty()) throw Error(Code::StoreUnavailable, problem);
}

// The read, on its own thread; a read that fails or is slow costs a status, which may tell why at once --
// leaving a read that would only time out to do so on its own, bounded by the deadline.
void read_first(const ClientOptions& own, const Url& url, Clock::time_point deadline) {
    auto read = std::make_shared<Slots<std::string>>(1);
    detach_into(read, 0, [own, url] {
        return failure_of([&] {
            EtcdClient client(own);
            sensu_read(client, url);
        });
    });
    auto failed = read->wait_until(std::min(deadline, Clock::now() + kReadPatience))[0];
    if (failed && failed->empty()) return;
    EtcdClient client(own);
    check_status(client, url);
    if (!failed) failed = read->wait_until(deadline)[0];
    if (!failed) throw Error(Code::StoreUnavailable, url.text() + ": no answer to a linearizable read in time");
    if (!failed->empty()) throw Error(Code::StoreUnavailable, *failed);
}

// One member on one of its client URLs; throws why it is unhealthy.
void check_on(const std::string& text, const Member& member, const ClientOptions& options, Clock::time_point deadline,
              Order order) {
    const Url url = parse_url(text, UrlKind::Client, "client URL of member " + hex_id(member.id));
    ClientOptions own = bounded(options, left_until(deadline));
    own.endpoints = {text};
    if (order == Order::ReadFirst) return read_first(own, url, deadline);
    EtcdClient client(own);
    check_status(client, url);
    sensu_read(client, url);
}

MemberHealth check_in_order(const Member& member, const ClientOptions& options, milliseconds timeout, Order order) {
    MemberHealth health{member.id, member.name, {}, false};
    if (member.client_urls.empty()) {
        health.error = "member has not started yet (it advertises no client URLs)";
        return health;
    }
    const auto deadline = Clock::now() + timeout;
    std::size_t unreachable = 0;
    for (const auto& text : member.client_urls) {
        try {
            check_on(text, member, options, deadline, order);
            return {member.id, member.name, {}, true};
        } catch (const UnreachableError& e) {
            if (health.error.empty()) health.error = e.what();
            ++unreachable;
        } catch (const Error& e) {
            if (health.error.empty()) health.error = e.what();
        }
        if (Clock::now() >= deadline) break;
    }
    health.unreachable = unreachable == member.client_urls.size();
    return health;
}

}  // namespace

MemberHealth check_member(const Member& member, const ClientOptions& options, milliseconds timeout) {
    return check_in_order(member, options, timeout, Order::StatusFirst);
}

Readiness check_readiness(const ClientOptions& options, milliseconds timeout) {
    if (options.endpoints.empty()) return {false, "no etcd client URL configured"};
    // A detached worker and a waiter with a deadline: the answer comes in time whatever etcd does.
    auto slot = std::make_shared<Slots<MemberHealth>>(1);
    const Member self{0, "", {}, {options.endpoints.front()}, false};
    detach_into(slot, 0, [self, options, timeout] { return check_member(self, options, timeout); });
    const auto done = slot->wait_until(Clock::now() + timeout)[0];
    if (!done) return {false, "etcd gave no answer within " + seconds_text(timeout)};
    return {done->healthy, done->error};
}

namespace {

// The member list within `budget` (nullopt and `error` set otherwise). It is answered locally by any member
// (no quorum needed in etcd 3.4), but an unreachable endpoint can take its whole budget.
std::optional<MemberList> member_list_within(const ClientOptions& options, milliseconds budget, std::string& error) {
    auto slot = std::make_shared<Slots<std::pair<MemberList, std::string>>>(1);
    detach_into(slot, 0, [opts = bounded(options, budget)]() -> std::pair<MemberList, std::string> {
        try {
            return {EtcdClient(opts).member_list(), {}};
        } catch (const std::exception& e) {
            return {{}, e.what()};
        }
    });
    const auto list = slot->wait_until(Clock::now() + budget)[0];
    if (!list)
        error = "no etcd endpoint answered the member list within " + seconds_text(budget);
    else
        error = list->second;
    if (!error.empty()) return std::nullopt;
    return list->first;
}

// Whether the voting members that took no connection at all are a quorum: then no member can serve a
// linearizable read (it needs a leader that a quorum confirms), and the checks still waiting would only
// learn it at the deadline -- for up to an election timeout after the loss a member still believes in its
// dead leader. Learners do not vote.
std::string no_quorum(const std::vector<Member>& members, const std::vector<std::optional<MemberHealth>>& done) {
    std::size_t voters = 0, gone = 0;
    for (std::size_t i = 0; i < members.size(); ++i) {
        if (members[i].is_learner) continue;
        ++voters;
        if (done[i] && done[i]->unreachable) ++gone;
    }
    if (voters == 0 || gone < voters / 2 + 1) return {};
    return "no quorum: " + std::to_string(gone) + " of " + std::to_string(voters) +
           " voting members take no connection, so no member can serve a linearizable read";
}

using MemberChecks = std::shared_ptr<Slots<MemberHealth>>;

// Every member checked at once, each on its own thread, within `timeout`.
MemberChecks start_checks(const std::vector<Member>& members, const ClientOptions& options, milliseconds timeout) {
    auto checks = std::make_shared<Slots<MemberHealth>>(members.size());
    for (std::size_t i = 0; i < members.size(); ++i)
        detach_into(checks, i, [member = members[i], options, timeout] {
            return check_in_order(member, options, timeout, Order::ReadFirst);
        });
    return checks;
}

// The checks' answers; one still running at `deadline`, or when the others show that no quorum is left, is
// unhealthy.
std::vector<MemberHealth> collect(const MemberChecks& checks, const std::vector<Member>& members,
                                  Clock::time_point deadline, milliseconds timeout) {
    const auto done =
        checks->wait_until(deadline, [&](const auto& so_far) { return !no_quorum(members, so_far).empty(); });
    std::string why = no_quorum(members, done);
    if (why.empty()) why = "no answer within " + seconds_text(timeout);
    std::vector<MemberHealth> out;
    for (std::size_t i = 0; i < members.size(); ++i)
        out.push_back(done[i] ? *done[i] : MemberHealth{members[i].id, members[i].name, why, false});
    return out;
}

// Whether checks made of `a` answer for `b`: the same members, in order, on the same client URLs and roles.
bool same_checks(const std::vector<Member>& a, const std::vector<Member>& b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](const Member& x, const Member& y) {
        return x.id == y.id && x.name == y.name && x.client_urls == y.client_urls && x.is_learner == y.is_learner;
    });
}

}  // namespace

ClusterHealth check_cluster_health(const ClientOptions& options, milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    // The alarm list needs no member list: asked from the start, beside it.
    auto alarm_slot = std::make_shared<Slots<std::vector<Alarm>>>(1);
    detach_into(alarm_slot, 0, [opts = bounded(options, timeout)]() -> std::vector<Alarm> {
        try {
            return EtcdClient(opts).alarms();
        } catch (const std::exception&) {
            return {};  // alarms need quorum; members already tell why it is missing
        }
    });
    const std::vector<Member> known = options.known_members ? options.known_members->get() : std::vector<Member>{};
    const MemberChecks early = known.empty() ? nullptr : start_checks(known, options, timeout);
    ClusterHealth result;
    const auto list = member_list_within(options, std::max(milliseconds(1), timeout / 2), result.error);
    if (!list) return result;
    result.header = list->header;
    if (options.known_members) options.known_members->set(list->members);
    const bool known_still = early && same_checks(known, list->members);
    const MemberChecks checks = known_still ? early : start_checks(list->members, options, left_until(deadline));
    result.members = collect(checks, list->members, deadline, timeout);
    // Alarms go through raft: without quorum they only time out. When a member is already unhealthy the
    // answer is 503 anyway, so take them only if they are in, rather than wait out the deadline.
    const bool all_ok =
        std::all_of(result.members.begin(), result.members.end(), [](const MemberHealth& m) { return m.healthy; });
    if (auto alarms = alarm_slot->wait_until(all_ok ? std::max(deadline, Clock::now()) : Clock::now())[0])
        result.alarms = std::move(*alarms);
    return result;
}

}  // namespace trellis::store
