// Benchmark: time from starting three trellis-backends to every /health being 200,
// side by side with starting the same three etcd processes by hand with the same
// flags (BackendConfig::etcd_arguments()) until each serves a linearizable read;
// plus each backend's resident memory, etcd excluded. Uses 127.0.0.51-53, provisioned by
// cluster-config (full mTLS), with raft tuned as the integration tests once did (50/500 ms).
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <functional>
#include <iostream>
#include <thread>

#include "backend_fixture.hpp"
#include "cluster/backend_config.hpp"
#include "core/files.hpp"
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
                std::this_thread::sleep_for(5ms);
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

double etcd_by_hand(const t::ProvisionedCluster& layout, int round) {
    std::vector<std::unique_ptr<t::ChildProcess>> etcds;
    std::vector<trellis::store::Member> members;
    trellis::store::ClientOptions options;
    const auto start = Clock::now();
    for (std::size_t i = 0; i < kNodes.size(); ++i) {
        const auto path = layout.config(kNodes[i].first);
        auto config = trellis::cluster::BackendConfig::from_yaml(trellis::read_file(path), path.string());
        config.set(trellis::cluster::Key::StateDir,
                   {(layout.dir() / ("hand-" + std::to_string(round) + "-" + kNodes[i].first)).string()}, {"bench", 0});
        for (const auto& [key, value] : kTuning) config.set(key, {value}, {"bench", 0});
        std::vector<std::string> argv{"/usr/bin/etcd"};
        for (auto& a : config.etcd_arguments()) argv.push_back(a);
        etcds.push_back(std::make_unique<t::ChildProcess>(argv, layout.dir() / ("hand-" + kNodes[i].first + ".log")));
        members.push_back(
            {0, kNodes[i].first, {}, config.get_list(trellis::cluster::Key::EtcdAdvertiseClientUrls), false});
        options.tls = {config.etcd_client_cert_file(), config.etcd_client_key_file(),
                       config.get(trellis::cluster::Key::EtcdTrustedCaFile)};
    }
    std::vector<std::function<bool()>> probes;
    for (std::size_t i = 0; i < kNodes.size(); ++i)
        probes.push_back([&, i] { return trellis::store::check_member(members[i], options, 100ms).healthy; });
    const double elapsed = time_until_all(start, probes);
    for (auto& e : etcds) e->signal(SIGTERM);
    for (auto& e : etcds) e->wait_exit(15);
    return elapsed;
}

std::pair<double, std::vector<long>> backends(const t::ProvisionedCluster& layout) {
    std::vector<std::unique_ptr<t::ChildProcess>> nodes;
    const auto start = Clock::now();
    std::vector<std::string> extra{"--log-level", "warn"};
    for (const auto& [key, value] : kTuning) extra.insert(extra.end(), {"--" + key, value});
    for (const auto& node : kNodes) nodes.push_back(layout.start(node.first, extra));
    std::vector<std::unique_ptr<httplib::Client>> clients;
    std::vector<std::function<bool()>> probes;
    for (std::size_t i = 0; i < kNodes.size(); ++i) {
        clients.push_back(layout.api(kNodes[i].first));
        clients.back()->set_connection_timeout(0, 100000);
        probes.push_back([&, i] {
            auto res = clients[i]->Get("/health?timeout=1");
            return res && res->status == 200;
        });
    }
    const double elapsed = time_until_all(start, probes);
    std::vector<long> rss;
    for (auto& n : nodes) rss.push_back(rss_kib(n->pid()));
    for (auto& n : nodes) n->signal(SIGTERM);
    for (auto& n : nodes) n->wait_exit(20);
    return {elapsed, rss};
}

}  // namespace

int main() {
    const int rounds = 3;
    std::vector<double> hand, backend;
    std::vector<long> rss;
    for (int r = 0; r < rounds; ++r) {
        t::TempDir hand_dir, backend_dir;
        hand.push_back(etcd_by_hand(*provision(hand_dir, "bench-hand-" + std::to_string(r)), r));
        auto [ms, kib] = backends(*provision(backend_dir, "bench-backend-" + std::to_string(r)));
        backend.push_back(ms);
        rss.insert(rss.end(), kib.begin(), kib.end());
    }
    for (int r = 0; r < rounds; ++r)
        std::cout << "round " << r + 1 << ": etcd by hand " << hand[r] << " ms, backends " << backend[r] << " ms\n";
    std::sort(hand.begin(), hand.end());
    std::sort(backend.begin(), backend.end());
    const double h = hand[rounds / 2], b = backend[rounds / 2];
    std::cout << "three etcd by hand, start to all serving (median of " << rounds << "): " << h << " ms\n"
              << "three trellis-backends, start to all /health 200 (median): " << b << " ms\n"
              << "backend overhead: " << (b - h) << " ms (" << (100.0 * (b - h) / h) << "%)\n"
              << "backend RSS, etcd excluded (max over " << rss.size()
              << " processes): " << *std::max_element(rss.begin(), rss.end()) / 1024.0 << " MiB\n";
    const bool ok = (b - h) < 100.0 || (b - h) < 0.1 * h;
    std::cout << (ok ? "PASS" : "OVER TARGET") << " (target: under 100 ms or 10%)\n";
    return 0;
}
