// Benchmark (issue 11): what one node's etcd restart costs during `trellisctl cluster rollout`, side by
// side with restarting plain etcd by hand with the same flags and the same data; the whole rollout of
// three nodes; and a full rotation of the client CA (trust, rollout, reissue, finish, rollout; the nodes
// read DIR's folders directly, so there is no copying). On 127.0.0.55-57, provisioned by cluster-config (full mTLS),
// default raft timing.
//
// A rollout step (POST /api/trellis/v1/etcd/restart) moves leadership away when the node leads, stops
// etcd, starts it, and answers once it serves a linearizable read again. By hand: SIGTERM, wait for the
// exit, start, poll until it serves. Both are measured from the request (or the signal) to serving.
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <thread>

#include "backend_fixture.hpp"
#include "cluster/backend_config.hpp"
#include "core/files.hpp"
#include "store/health.hpp"

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
namespace t = trellis::testing;
namespace cluster = trellis::cluster;

namespace {

const std::vector<std::pair<std::string, std::string>> kNodes{
    {"backend-1", "127.0.0.55"}, {"backend-2", "127.0.0.56"}, {"backend-3", "127.0.0.57"}};
constexpr int kRounds = 3;

double ms_since(Clock::time_point start) {
    return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v[v.size() / 2];
}

// Each node's rollout step, kRounds times, through its own API as the admin.
std::vector<double> rollout_steps(const t::ProvisionedCluster& layout) {
    std::vector<double> out;
    for (int r = 0; r < kRounds; ++r)
        for (const auto& [node, ip] : kNodes) {
            auto api = layout.api(node);
            api->set_read_timeout(180, 0);
            const auto start = Clock::now();
            const auto res = api->Post("/api/trellis/v1/etcd/restart", "", "text/plain");
            if (!res || res->status != 200) {
                std::cerr << node << ": restart failed: " << (res ? res->body : httplib::to_string(res.error()))
                          << "\n";
                continue;
            }
            out.push_back(ms_since(start));
        }
    return out;
}

// The same three members, run by hand from the backends' data dirs with the backends' etcd flags.
std::vector<double> restarts_by_hand(const t::ProvisionedCluster& layout) {
    std::vector<std::vector<std::string>> argvs;
    std::vector<trellis::store::Member> members;
    trellis::store::ClientOptions options;
    for (const auto& [node, ip] : kNodes) {
        const auto path = layout.config(node);
        auto config = cluster::BackendConfig::from_yaml(trellis::read_file(path), path.string());
        config.set(cluster::Key::StateDir, {layout.state_dir(node).string()}, {"bench", 0});
        std::vector<std::string> argv{"/usr/bin/etcd"};
        for (auto& a : config.etcd_arguments()) argv.push_back(a);
        argvs.push_back(argv);
        members.push_back({0, node, {}, config.get_list(cluster::Key::EtcdAdvertiseClientUrls), false});
        options.tls = {config.etcd_client_cert_file(), config.etcd_client_key_file(),
                       config.get(cluster::Key::EtcdTrustedCaFile)};
    }
    std::vector<std::unique_ptr<t::ChildProcess>> etcds;
    for (std::size_t i = 0; i < argvs.size(); ++i)
        etcds.push_back(
            std::make_unique<t::ChildProcess>(argvs[i], layout.dir() / ("hand-" + kNodes[i].first + ".log")));
    const auto serving = [&](std::size_t i) {
        for (const auto deadline = Clock::now() + 60s; Clock::now() < deadline; std::this_thread::sleep_for(5ms))
            if (trellis::store::check_member(members[i], options, 200ms).healthy) return true;
        return false;
    };
    for (std::size_t i = 0; i < etcds.size(); ++i) serving(i);
    std::vector<double> out;
    for (int r = 0; r < kRounds; ++r)
        for (std::size_t i = 0; i < etcds.size(); ++i) {
            const auto start = Clock::now();
            etcds[i]->signal(SIGTERM);
            etcds[i]->wait_exit(20);
            etcds[i] = std::make_unique<t::ChildProcess>(argvs[i], layout.dir() / ("hand-" + kNodes[i].first + ".log"));
            if (serving(i)) out.push_back(ms_since(start));
        }
    for (auto& e : etcds) e->signal(SIGTERM);
    for (auto& e : etcds) e->wait_exit(20);
    return out;
}

// rotate-ca's three stages with the two rollouts, each timed; the total last.
std::vector<std::pair<std::string, double>> rotate_client_ca(const t::ProvisionedCluster& layout,
                                                             const std::filesystem::path& spec) {
    std::vector<std::pair<std::string, double>> out;
    const auto total = Clock::now();
    const auto step = [&](const std::string& name, const std::vector<std::string>& argv) {
        const auto start = Clock::now();
        const t::RunResult r = t::run(argv, {}, layout.dir(), 600);
        if (r.exit_code != 0) std::cerr << name << " failed: " << r.err << "\n";
        out.emplace_back(name, r.exit_code == 0 ? ms_since(start) : -1);
    };
    const std::string tool = t::build_path("cluster-config/cluster-config").string();
    for (const std::string stage : {"trust", "reissue", "finish"}) {
        step("rotate-ca " + stage,
             {tool, "rotate-ca", spec.string(), "--out", layout.out().string(), "--ca", "client", "--stage", stage});
        if (stage != "reissue") {
            const auto start = Clock::now();
            const t::RunResult r = layout.trellisctl({"cluster", "rollout"}, 600);
            out.emplace_back("rollout after " + stage, r.exit_code == 0 ? ms_since(start) : -1);
        }
    }
    out.emplace_back("whole rotation", ms_since(total));
    return out;
}

}  // namespace

int main() {
    t::TempDir dir;
    std::string spec = "cluster: {name: bench-rollout, token: bench-rollout}\nnodes:\n";
    for (const auto& [name, ip] : kNodes) spec += "  - {name: " + name + ", address: " + ip + "}\n";
    spec += "clients:\n  - name: admin\n";
    t::spit(dir / "spec.yml", spec);
    const t::ProvisionedCluster layout(dir / "spec.yml", dir.path());
    std::vector<std::unique_ptr<t::ChildProcess>> nodes;
    for (const auto& [node, ip] : kNodes) nodes.push_back(layout.start(node, {"--log-level", "warn"}));
    auto admin = layout.api(kNodes.front().first);
    if (!t::wait_healthy(*admin, kNodes.size(), 90s)) {
        std::cerr << "the cluster did not turn healthy\n";
        return 1;
    }
    const std::vector<double> steps = rollout_steps(layout);
    const auto start = Clock::now();
    const t::RunResult rollout = layout.trellisctl({"cluster", "rollout"}, 600);
    const double whole = ms_since(start);
    const auto rotation = rotate_client_ca(layout, dir / "spec.yml");
    for (auto& n : nodes) n->signal(SIGTERM);
    for (auto& n : nodes) n->wait_exit(30);
    const std::vector<double> hand = restarts_by_hand(layout);

    std::cout << "one node's etcd restart through the API (rollout step), median of " << steps.size() << ": "
              << median(steps) << " ms (max " << *std::max_element(steps.begin(), steps.end()) << ")\n"
              << "plain etcd restarted by hand, same flags and data, median of " << hand.size() << ": " << median(hand)
              << " ms (max " << *std::max_element(hand.begin(), hand.end()) << ")\n"
              << "trellisctl cluster rollout of 3 nodes (exit " << rollout.exit_code << "): " << whole << " ms\n";
    bool rotated = true;
    for (const auto& [name, ms] : rotation) {
        std::cout << "client CA rotation, " << name << ": " << ms << " ms\n";
        rotated &= ms >= 0;
    }
    return steps.size() == kNodes.size() * kRounds && rollout.exit_code == 0 && rotated ? 0 : 1;
}
