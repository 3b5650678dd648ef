// Benchmark: time from starting three trellis-backends to every /health being 200,
// side by side with starting the same three etcd processes by hand with the same
// flags (BackendConfig::etcd_arguments()) until each serves a linearizable read;
// plus each backend's resident memory, etcd excluded. Uses 127.0.0.51-53, provisioned by
// cluster-config (full mTLS), with raft tuned as the integration tests once did (50/500 ms).
// A new cluster's first election takes either ~0.3 s or ~2 s at random (a member whose stream to the
// first leader is not up yet stands at a higher term), on both sides alike, so besides the medians
// each round also times the milestones both sides share and reports what the backend adds to them.
// BENCH_ROUNDS (default 15) sets the number of rounds.
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iostream>
#include <thread>

#include "backend_fixture.hpp"
#include "cluster/backend_config.hpp"
#include "core/files.hpp"
#include "core/url.hpp"
#include "store/health.hpp"

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
namespace t = trellis::testing;

namespace {

const std::vector<std::pair<std::string, std::string>> kNodes{
    {"backend-1", "127.0.0.51"}, {"backend-2", "127.0.0.52"}, {"backend-3", "127.0.0.53"}};
// Same for the backends and for etcd by hand.
const std::vector<std::pair<std::string, std::string>> kTuning{{"etcd-heartbeat-interval", "50"},
                                                               {"etcd-election-timeout", "500"}};

// A cluster of kNodes provisioned into `dir` with its own token.
std::unique_ptr<t::ProvisionedCluster> provision(const t::TempDir& dir, const std::string& token) {
    std::string spec = "cluster: {name: bench, token: " + token + "}\nnodes:\n";
    for (const auto& [name, ip] : kNodes) spec += "  - {name: " + name + ", address: " + ip + "}\n";
    spec += "clients:\n  - name: admin\n";
    t::spit(dir / "spec.yml", spec);
    return std::make_unique<t::ProvisionedCluster>(dir / "spec.yml", dir.path());
}

double ms_since(Clock::time_point start) {
    return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// Polls every probe on its own thread (so one slow probe never delays seeing another
// node ready) and returns when all have succeeded: the latest success, in ms since `start`.
double time_until_all(Clock::time_point start, const std::vector<std::function<bool()>>& probes) {
    std::vector<double> done(probes.size(), -1);
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < probes.size(); ++i)
        threads.emplace_back([&, i] {
            while (ms_since(start) < 60000) {
                if (probes[i]()) {
                    done[i] = ms_since(start);
                    return;
                }
                std::this_thread::sleep_for(2ms);
            }
        });
    for (auto& t : threads) t.join();
    return *std::max_element(done.begin(), done.end());
}

long rss_kib(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    for (std::string line; std::getline(in, line);)
        if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
    return -1;
}

// One bring-up, in ms since the processes were started: when all three etcd client ports accept
// connections, when all three members serve a linearizable read, and (backends only) when every
// /health answers 200. The election in between is random and the same for both sides (the same etcd
// binary with the same flags); what the backend adds is `listening` beyond etcd's own and `healthy`
// beyond `serving`.
struct Round {
    double listening = 0, serving = 0, healthy = 0;
    std::vector<long> rss;
};

// The three etcd members of `layout`, as the probes see them, and the client options to ask them with.
struct Probes {
    std::vector<trellis::store::Member> members;
    std::vector<trellis::Url> client_urls;
    trellis::store::ClientOptions options;
};

Probes probes_for(const t::ProvisionedCluster& layout) {
    Probes p;
    for (const auto& [name, ip] : kNodes) {
        const auto path = layout.config(name);
        const auto config = trellis::cluster::BackendConfig::from_yaml(trellis::read_file(path), path.string());
        const auto urls = config.get_list(trellis::cluster::Key::EtcdAdvertiseClientUrls);
        p.members.push_back({0, name, {}, urls, false});
        p.client_urls.push_back(trellis::parse_url(urls.front(), trellis::UrlKind::Client, "bench"));
        p.options.tls = {config.etcd_client_cert_file(), config.etcd_client_key_file(),
                         config.get(trellis::cluster::Key::EtcdTrustedCaFile)};
    }
    return p;
}

// Fills `round` from the etcd side of a bring-up that began at `start`.
void time_etcd(Clock::time_point start, const Probes& p, Round& round) {
    std::vector<std::function<bool()>> listening, serving;
    for (std::size_t i = 0; i < p.members.size(); ++i) {
        listening.push_back([&, i] { return t::accepts_connections(p.client_urls[i].host, p.client_urls[i].port); });
        serving.push_back([&, i] { return trellis::store::check_member(p.members[i], p.options, 100ms).healthy; });
    }
    round.listening = time_until_all(start, listening);
    round.serving = time_until_all(start, serving);
}

Round etcd_by_hand(const t::ProvisionedCluster& layout, int round_number) {
    std::vector<std::unique_ptr<t::ChildProcess>> etcds;
    std::vector<std::vector<std::string>> argvs;
    for (const auto& [name, ip] : kNodes) {
        const auto path = layout.config(name);
        auto config = trellis::cluster::BackendConfig::from_yaml(trellis::read_file(path), path.string());
        config.set(trellis::cluster::Key::StateDir,
                   {(layout.dir() / ("hand-" + std::to_string(round_number) + "-" + name)).string()}, {"bench", 0});
        for (const auto& [key, value] : kTuning) config.set(key, {value}, {"bench", 0});
        argvs.push_back({"/usr/bin/etcd"});
        for (auto& a : config.etcd_arguments()) argvs.back().push_back(a);
    }
    const Probes p = probes_for(layout);
    Round round;
    const auto start = Clock::now();
    for (std::size_t i = 0; i < argvs.size(); ++i)
        etcds.push_back(
            std::make_unique<t::ChildProcess>(argvs[i], layout.dir() / ("hand-" + kNodes[i].first + ".log")));
    time_etcd(start, p, round);
    for (auto& e : etcds) e->signal(SIGTERM);
    for (auto& e : etcds) e->wait_exit(15);
    return round;
}

Round backends(const t::ProvisionedCluster& layout) {
    std::vector<std::unique_ptr<t::ChildProcess>> nodes;
    std::vector<std::string> extra{"--log-level", "warn"};
    for (const auto& [key, value] : kTuning) extra.insert(extra.end(), {"--" + key, value});
    const Probes p = probes_for(layout);
    std::vector<std::unique_ptr<httplib::Client>> clients;
    std::vector<std::function<bool()>> healthy;
    for (std::size_t i = 0; i < kNodes.size(); ++i) {
        clients.push_back(layout.api(kNodes[i].first));
        clients.back()->set_connection_timeout(0, 100000);
        healthy.push_back([&, i] {
            auto res = clients[i]->Get("/health?timeout=1");
            return res && res->status == 200;
        });
    }
    Round round;
    const auto start = Clock::now();
    for (const auto& node : kNodes) nodes.push_back(layout.start(node.first, extra));
    time_etcd(start, p, round);
    round.healthy = time_until_all(start, healthy);
    for (auto& n : nodes) round.rss.push_back(rss_kib(n->pid()));
    for (auto& n : nodes) n->signal(SIGTERM);
    for (auto& n : nodes) n->wait_exit(20);
    return round;
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

}  // namespace

int main() {
    const char* env_rounds = std::getenv("BENCH_ROUNDS");
    const int rounds = env_rounds ? std::max(1, std::atoi(env_rounds)) : 15;
    std::vector<Round> hand, backend;
    std::vector<double> start_cost, health_cost, total_hand, total_backend;
    long max_rss = 0;
    for (int r = 0; r < rounds; ++r) {  // alternating, so a busy moment slows both sides alike
        t::TempDir hand_dir, backend_dir;
        hand.push_back(etcd_by_hand(*provision(hand_dir, "bench-hand-" + std::to_string(r)), r));
        backend.push_back(backends(*provision(backend_dir, "bench-backend-" + std::to_string(r))));
        const Round &h = hand.back(), &b = backend.back();
        start_cost.push_back(b.listening - h.listening);
        health_cost.push_back(b.healthy - b.serving);
        total_hand.push_back(h.serving);
        total_backend.push_back(b.healthy);
        for (long kib : b.rss) max_rss = std::max(max_rss, kib);
        std::cout << "round " << r + 1 << ": etcd by hand listening " << h.listening << " serving " << h.serving
                  << " ms; backends listening " << b.listening << " serving " << b.serving << " /health 200 "
                  << b.healthy << " ms" << std::endl;
    }
    const double hand_ms = median(total_hand), backend_ms = median(total_backend);
    const double added = median(start_cost) + median(health_cost);
    std::cout << "medians over " << rounds << " rounds: three etcd by hand, start to all serving " << hand_ms
              << " ms; three trellis-backends, start to all /health 200 " << backend_ms << " ms ("
              << backend_ms / hand_ms << "x, election luck included)\n"
              << "what the backend adds (medians of per-round differences): etcd listening later by "
              << median(start_cost) << " ms, /health 200 after its etcd serves " << median(health_cost)
              << " ms: " << added << " ms, " << (hand_ms + added) / hand_ms << "x of etcd's median by hand\n"
              << "backend RSS, etcd excluded (max over " << 3 * rounds << " processes): " << max_rss / 1024.0
              << " MiB\n";
    return 0;
}
