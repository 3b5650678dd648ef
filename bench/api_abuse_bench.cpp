// Benchmark (issue 10 item 1): an authenticated client's latency while 1,000 idle TCP connections and 100
// stalled TLS handshakes are aimed at one node, side by side for the backend's API (8080: /health and
// the member list) and etcd's client port (2379: etcd's /health and /v3/cluster/member/list), each
// also without the load. The attack's sockets come from 127.0.0.141-146 and are reopened every 500 ms
// as the server closes them. Uses the abuse test's cluster (tests/data/backend/abuse-3.yml,
// 127.0.0.141-143): never run it beside backend-abuse. Each request is a new connection (handshake included).
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <thread>

#include "abuse_load.hpp"
#include "backend_fixture.hpp"

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
namespace t = trellis::testing;

namespace {

const std::vector<std::string> kSources{"127.0.0.141", "127.0.0.142", "127.0.0.143",
                                        "127.0.0.144", "127.0.0.145", "127.0.0.146"};

struct Row {
    std::string what;
    std::size_t held = 0;     // attack connections open at the client at the end (the server may close them)
    std::size_t sockets = 0;  // sockets the attacked process holds at the end
    double p50 = 0, p99 = 0, max = 0;
    int failed = 0;
};

double at(std::vector<double> v, double p) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

// `n` requests, one at a time, each on a new connection.
Row measure(const std::string& what, const std::function<bool()>& ask, int n) {
    Row row{what};
    std::vector<double> ms;
    for (int i = 0; i < n; ++i) {
        const auto t0 = Clock::now();
        if (!ask()) ++row.failed;
        ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    }
    row.p50 = at(ms, 0.5);
    row.p99 = at(ms, 0.99);
    row.max = at(ms, 1.0);
    return row;
}

// Open sockets of `pid` (every kind: the attack's, its clients', its listeners).
std::size_t sockets_of(pid_t pid) {
    std::size_t n = 0;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec)) {
        const auto target = std::filesystem::read_symlink(e.path(), ec);
        if (!ec && target.string().rfind("socket:", 0) == 0) ++n;
    }
    return n;
}

std::unique_ptr<httplib::Client> client(const t::ProvisionedCluster& c, const std::string& url) {
    auto cl = std::make_unique<httplib::Client>(url, c.admin_cert().string(), c.admin_key().string());
    cl->set_ca_cert_path(c.admin_ca().string());
    cl->enable_server_certificate_verification(true);
    cl->set_connection_timeout(5, 0);
    cl->set_read_timeout(10, 0);
    cl->set_tcp_nodelay(true);  // a POST's body is not held back for the head's delayed ACK
    return cl;
}

}  // namespace

int main() {
    rlimit lim{};
    ::getrlimit(RLIMIT_NOFILE, &lim);
    lim.rlim_cur = lim.rlim_max;  // 1,100 attack sockets
    ::setrlimit(RLIMIT_NOFILE, &lim);
    const int n = std::getenv("BENCH_REQUESTS") ? std::atoi(std::getenv("BENCH_REQUESTS")) : 200;
    t::TempDir dir;
    t::ProvisionedCluster cluster(t::data_path("backend/abuse-3.yml"), dir.path());
    std::vector<std::unique_ptr<t::ChildProcess>> nodes;
    for (const auto& node : cluster.nodes()) nodes.push_back(cluster.start(node, {"--etcd-ready-timeout", "60"}));
    auto api = client(cluster, cluster.api_url("backend-1"));
    if (!t::wait_healthy(*api, 3, 90s)) {
        std::cerr << "the cluster did not turn healthy\n" << nodes.front()->log_tail();
        return 1;
    }
    auto etcd = client(cluster, cluster.client_url("backend-1"));
    const std::map<std::string, std::function<bool()>> asks{
        {"API GET /health",
         [&] {
             auto r = api->Get("/health");
             return r && r->status == 200;
         }},
        {"API GET members",
         [&] {
             auto r = api->Get("/api/core/v2/cluster/members");
             return r && r->status == 200;
         }},
        {"etcd GET /health",
         [&] {
             auto r = etcd->Get("/health");
             return r && r->status == 200;
         }},
        {"etcd POST member/list",
         [&] {
             auto r = etcd->Post("/v3/cluster/member/list", "{}", "application/json");
             return r && r->status == 200;
         }},
    };
    std::vector<Row> rows;
    for (const auto& [port, prefix] : std::vector<std::pair<int, std::string>>{{8080, "API"}, {2379, "etcd"}}) {
        for (const auto& [what, ask] : asks)
            if (what.rfind(prefix, 0) == 0) rows.push_back(measure(what + ", no load", ask, n));
        std::vector<t::Attack::Kind> kinds;
        for (const auto& source : kSources) {
            kinds.push_back({"idle", source, 1000 / static_cast<int>(kSources.size()) + 1});
            kinds.push_back({"stalled", source, 100 / static_cast<int>(kSources.size()) + 1});
        }
        t::Attack attack("127.0.0.141", port, kinds, 500ms);
        std::this_thread::sleep_for(3s);
        for (const auto& [what, ask] : asks)
            if (what.rfind(prefix, 0) == 0) {
                Row row = measure(what + ", 1,000 idle + 100 stalled on " + std::to_string(port), ask, n);
                row.held = attack.open("idle") + attack.open("stalled");
                const auto etcds = t::etcd_pids_mentioning(cluster.state_dir("backend-1").string());
                row.sockets = sockets_of(port == 8080 ? nodes.front()->pid() : etcds.empty() ? 0 : etcds.front());
                rows.push_back(row);
            }
        attack.stop();
        std::this_thread::sleep_for(6s);  // the API's deadline closes what is left on its side
    }
    std::cout
        << "| request | attack sockets (client) | sockets held by the server process | p50 ms | p99 ms | max ms | "
           "failed of "
        << n << " |\n"
        << "| --- | --- | --- | --- | --- | --- | --- |\n";
    for (const auto& r : rows) {
        char line[256];
        std::snprintf(line, sizeof line, "| %s | %zu | %zu | %.1f | %.1f | %.1f | %d |\n", r.what.c_str(), r.held,
                      r.sockets, r.p50, r.p99, r.max, r.failed);
        std::cout << line;
    }
    return 0;
}
