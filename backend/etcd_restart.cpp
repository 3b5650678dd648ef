#include "etcd_restart.hpp"

#include <thread>

#include "core/files.hpp"
#include "core/url.hpp"
#include "log.hpp"
#include "pki/certificate.hpp"
#include "store/health.hpp"
#include "store/tls_diagnosis.hpp"

namespace trellis::backend {
namespace {

using Clock = std::chrono::steady_clock;
using cluster::Key;
using nlohmann::ordered_json;

template <typename F>
bool wait_until(Clock::time_point deadline, F done) {
    for (;;) {
        if (done()) return true;
        if (Clock::now() >= deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
}

Url own_client_url(const cluster::BackendConfig& config) {
    return parse_url(config.get_list(Key::EtcdAdvertiseClientUrls).front(), UrlKind::Client,
                     "etcd-advertise-client-urls");
}

// The other started voters' health: a restart must leave a quorum of the voters serving.
void check_quorum_without(const store::ClientOptions& store, std::uint64_t self) {
    const auto health = store::check_cluster_health(store, std::chrono::milliseconds(3000));
    store::EtcdClient client(store);
    const auto list = client.member_list();
    std::size_t voters = 0, others_healthy = 0;
    for (const auto& m : list.members) {
        if (m.is_learner) continue;
        ++voters;
        for (const auto& h : health.members)
            if (h.id == m.id && h.id != self && h.healthy) ++others_healthy;
    }
    if (others_healthy < voters / 2 + 1)
        throw Error(Code::StoreUnavailable, "restarting etcd here would leave " + std::to_string(others_healthy) +
                                                " of " + std::to_string(voters) +
                                                " voting members serving, short of a quorum: bring the others back "
                                                "first (trellisctl cluster health)");
}

// Leadership moves to another started voter first, so the restart costs no election.
std::string move_leadership_off(store::EtcdClient& client, const Url& self_url, std::uint64_t self) {
    if (client.status_on(self_url).leader != self) return {};
    for (const auto& m : client.member_list().members) {
        if (m.id == self || m.is_learner || m.client_urls.empty()) continue;
        client.move_leader(self_url, m.id);
        log(Level::Info, "rollout: moved raft leadership to " + m.name + " (" + store::hex_id(m.id) + ")");
        return m.name;
    }
    throw Error(Code::StoreUnavailable, "this member leads and no other started voter can take over");
}

}  // namespace

ordered_json RestartRequests::request(std::chrono::seconds limit) {
    std::unique_lock lock(mutex_);
    if (waiting_) throw Error(Code::StoreUnavailable, "a restart of this node's etcd is already running");
    waiting_ = true;
    answered_ = false;
    const bool answered = done_.wait_for(lock, limit, [this] { return answered_; });
    waiting_ = false;
    if (!answered)
        throw Error(Code::StoreUnavailable, "etcd's restart did not finish within " + std::to_string(limit.count()) +
                                                " s (see the node's log)");
    if (error_) throw *error_;
    return body_;
}

bool RestartRequests::pending() const {
    std::lock_guard lock(mutex_);
    return waiting_ && !answered_;
}

void RestartRequests::answer(ordered_json body, std::optional<Error> error) {
    {
        std::lock_guard lock(mutex_);
        body_ = std::move(body);
        error_ = std::move(error);
        answered_ = true;
    }
    done_.notify_all();
}

ordered_json serving_vs_disk(const cluster::BackendConfig& config, const store::ClientOptions& store) {
    const struct {
        std::string_view port;  // compared by value below
        std::string url;
        Key file;
    } ports[] = {
        {"client", config.get_list(Key::EtcdAdvertiseClientUrls).front(), Key::EtcdCertFile},
        {"peer", config.get_list(Key::EtcdInitialAdvertisePeerUrls).front(), Key::EtcdPeerCertFile},
        {"api", config.get(Key::ApiUrl), Key::CertFile},
    };
    const store::ProbeOptions probe{store.tls.cert_file, store.tls.key_file, std::chrono::milliseconds(2000), {}};
    ordered_json out = ordered_json::array();
    for (const auto& p : ports) {
        if (p.url.empty() || config.get(p.file).empty()) continue;
        const std::string file = config.get(p.file);
        const std::string on_disk = pki::Certificate::from_pem(read_file(file), file).serial_decimal();
        const auto served = store::served_certificate(
            parse_url(p.url, p.port == "api" ? UrlKind::Api : UrlKind::Client, p.port), probe);
        const std::string serial =
            served.pem.empty() ? std::string() : pki::Certificate::from_pem(served.pem, p.url).serial_decimal();
        out.push_back({{"Port", p.port},
                       {"URL", p.url},
                       {"File", file},
                       {"OnDisk", on_disk},
                       {"Served", serial.empty() ? served.error : serial},
                       {"Match", serial == on_disk}});
    }
    return out;
}

ordered_json restart_etcd(const cluster::BackendConfig& config, const store::ClientOptions& store,
                          store::EtcdProcess& etcd, const RestartLimits& limits) {
    const auto started = Clock::now();
    const Url self_url = own_client_url(config);
    store::EtcdClient client(store);
    const store::Status before = client.status_on(self_url);
    const std::uint64_t self = before.header.member_id;
    check_quorum_without(store, self);
    const std::string new_leader = move_leadership_off(client, self_url, self);
    // What the cluster had committed before the stop: caught up means this member has it all again.
    const std::uint64_t target_index = client.status().raft_index;
    const int old_pid = etcd.pid();
    log(Level::Info, "rollout: restarting etcd (pid " + std::to_string(old_pid) + ") to read its files anew");
    etcd.stop(limits.stop_grace);
    etcd.start();
    const store::Member me{self, config.get(Key::EtcdName), {}, config.get_list(Key::EtcdAdvertiseClientUrls), false};
    const auto deadline = Clock::now() + limits.ready;
    const bool caught_up = wait_until(deadline, [&] {
        if (!etcd.running())
            throw Error(Code::StoreProcessFailed, "etcd died after its restart: it " + etcd.describe_exit());
        if (!store::check_member(me, store, std::chrono::milliseconds(1000)).healthy) return false;
        try {
            return client.status_on(self_url).raft_index >= target_index;
        } catch (const Error&) {
            return false;
        }
    });
    if (!caught_up)
        throw Error(Code::StoreUnavailable, "etcd did not serve and catch up within " +
                                                std::to_string(limits.ready.count()) + " s of its restart");
    const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
    log(Level::Info, "rollout: etcd restarted (pid " + std::to_string(old_pid) + " -> " + std::to_string(etcd.pid()) +
                         "), serving and caught up");
    return {{"Node", config.get(Key::EtcdName)}, {"OldPid", old_pid},  {"NewPid", etcd.pid()},
            {"LeaderMovedTo", new_leader},       {"Seconds", seconds}, {"Serving", serving_vs_disk(config, store)}};
}

}  // namespace trellis::backend
