// Benchmark (issue 14 goal 6): the backend API's GET /health against etcd's own GET /health on the same
// node, in one run, on a healthy 3-node full-mTLS cluster and after 2 of its 3 nodes stopped (quorum
// lost). Each row is asked BENCH_REQUESTS times (default 200), interleaved with the others so the
// machine's load falls on all alike; "new connection" rows open a TLS connection per request (the
// handshake included, as a Sensu agent or a load balancer does), "kept-alive" rows reuse one. The healthy
// run also times, alone, each etcd gateway call /health makes (the member list, and per member its status
// and a linearizable read; the alarm list once).
// Uses 127.0.0.51-53 (backend-startup's hosts): never beside that benchmark.
#include <signal.h>

#include <cstdio>
#include <iostream>
#include <map>

#include "backend_fixture.hpp"
#include "latency.hpp"
#include "store/connection_pool.hpp"
#include "store/etcd_client.hpp"

using namespace std::chrono_literals;
namespace t = trellis::testing;
namespace b = trellis::bench;

namespace {

const std::vector<std::pair<std::string, std::string>> kNodes{
    {"backend-1", "127.0.0.51"}, {"backend-2", "127.0.0.52"}, {"backend-3", "127.0.0.53"}};

std::unique_ptr<t::ProvisionedCluster> provision(const t::TempDir& dir) {
    std::string spec = "cluster: {name: health-bench, token: health-bench}\nnodes:\n";
    for (const auto& [name, ip] : kNodes) spec += "  - {name: " + name + ", address: " + ip + "}\n";
    spec += "clients:\n  - name: admin\n";
    t::spit(dir / "spec.yml", spec);
    return std::make_unique<t::ProvisionedCluster>(dir / "spec.yml", dir.path());
}

std::unique_ptr<httplib::Client> client(const t::ProvisionedCluster& c, const std::string& url, bool keep_alive) {
    auto cl = std::make_unique<httplib::Client>(url, c.admin_cert().string(), c.admin_key().string());
    cl->set_ca_cert_path(c.admin_ca().string());
    cl->enable_server_certificate_verification(true);
    cl->set_connection_timeout(5, 0);
    cl->set_read_timeout(10, 0);
    cl->set_tcp_nodelay(true);
    cl->set_keep_alive(keep_alive);
    return cl;
}

struct Ask {
    std::string what;
    std::unique_ptr<httplib::Client> client;
    std::string path;
    std::string body;  // non-empty: a POST of it (etcd's JSON gateway)
    b::Samples samples;
};

// `n` rounds, each asking every row once; a row's answer counts as right when its status is `want`.
void interleave(std::vector<Ask>& asks, int n, int want) {
    for (int i = 0; i < n; ++i)
        for (auto& a : asks)
            a.samples.take([&] {
                auto r = a.body.empty() ? a.client->Get(a.path) : a.client->Post(a.path, a.body, "application/json");
                return r && r->status == want;
            });
}

void print(const std::string& phase, const std::vector<Ask>& asks, int n) {
    std::cout << "\n"
              << phase << "\n\n| request | p50 ms | p99 ms | max ms | first ms | wrong answers of " << n
              << " |\n| --- | --- | --- | --- | --- | --- |\n";
    for (const auto& a : asks) {
        char line[256];
        std::snprintf(line, sizeof line, "| %s | %.1f | %.1f | %.1f | %.1f | %d |\n", a.what.c_str(),
                      b::percentile(a.samples.ms, 0.5), b::percentile(a.samples.ms, 0.99),
                      b::percentile(a.samples.ms, 1.0), a.samples.ms.empty() ? 0.0 : a.samples.ms.front(),
                      a.samples.failed);
        std::cout << line;
    }
}

std::vector<Ask> rows(const t::ProvisionedCluster& cluster) {
    const std::string api = cluster.api_url("backend-1"), etcd = cluster.client_url("backend-1");
    std::vector<Ask> asks;
    asks.push_back({"API GET /health, new connection", client(cluster, api, false), "/health", {}, {}});
    asks.push_back({"etcd GET /health, new connection", client(cluster, etcd, false), "/health", {}, {}});
    asks.push_back({"API GET /health, kept-alive", client(cluster, api, true), "/health", {}, {}});
    asks.push_back({"etcd GET /health, kept-alive", client(cluster, etcd, true), "/health", {}, {}});
    return asks;
}

// The gateway calls /health is made of, each alone on a kept connection: the floor under the API's answer.
void add_parts(std::vector<Ask>& asks, const t::ProvisionedCluster& cluster) {
    const std::string etcd = cluster.client_url("backend-1");
    const std::vector<std::pair<std::string, std::string>> parts{{"/v3/cluster/member/list", "{}"},
                                                                 {"/v3/maintenance/status", "{}"},
                                                                 {"/v3/kv/range", R"({"key":"aGVhbHRo"})"},
                                                                 {"/v3/maintenance/alarm", R"({"action":"GET"})"}};
    for (const auto& [path, body] : parts)
        asks.push_back({"etcd POST " + path + ", kept-alive", client(cluster, etcd, true), path, body, {}});
}

// The backend's own dial to etcd: a write goes on a new connection of its own. Without a pool the client
// pair is parsed for every dial; with one it is parsed once (ConnectionPool::credentials).
void dials(const t::ProvisionedCluster& cluster, int n) {
    const std::string url = cluster.client_url("backend-1");
    trellis::store::ClientOptions options{
        {url}, {cluster.admin_cert().string(), cluster.admin_key().string(), cluster.admin_ca().string()}, 5s, 10s};
    auto pooled = options;
    pooled.connections = std::make_shared<trellis::store::ConnectionPool>();
    std::vector<std::pair<std::string, trellis::store::ClientOptions>> kinds{
        {"library put, new connection, client pair parsed per dial", options},
        {"library put, new connection, client pair parsed once (pool)", pooled}};
    std::vector<b::Samples> samples(kinds.size());
    for (int i = 0; i < n; ++i)
        for (std::size_t k = 0; k < kinds.size(); ++k)
            samples[k].take([&] {
                try {
                    trellis::store::EtcdClient(kinds[k].second).put("bench-dial", std::to_string(i));
                    return true;
                } catch (const trellis::Error&) {
                    return false;
                }
            });
    for (std::size_t k = 0; k < kinds.size(); ++k)
        std::printf("| %s | %.2f | %.2f | %d |\n", kinds[k].first.c_str(), b::percentile(samples[k].ms, 0.5),
                    b::percentile(samples[k].ms, 0.99), samples[k].failed);
}

}  // namespace

int main() {
    const int n = std::getenv("BENCH_REQUESTS") ? std::atoi(std::getenv("BENCH_REQUESTS")) : 200;
    t::TempDir dir;
    const auto cluster = provision(dir);
    std::map<std::string, std::unique_ptr<t::ChildProcess>> nodes;
    for (const auto& [name, ip] : kNodes) nodes[name] = cluster->start(name, {"--log-level", "warn"});
    if (!t::wait_healthy(*cluster->api("backend-1"), 3, 90s)) {
        std::cerr << "the cluster did not turn healthy\n" << nodes["backend-1"]->log_tail();
        return 1;
    }
    auto healthy = rows(*cluster);
    add_parts(healthy, *cluster);
    interleave(healthy, n, 200);
    print("Healthy 3-node cluster, asking backend-1 (127.0.0.51)", healthy, n);
    std::cout << "\nThe library's own dial to etcd (backend-1), interleaved\n\n| call | p50 ms | p99 ms | failed |\n"
                 "| --- | --- | --- | --- |\n";
    dials(*cluster, n);

    // Quorum loss: two of three nodes (their etcd with them) stop; backend-1 and its etcd stay up.
    for (const auto& name : {"backend-2", "backend-3"}) nodes[name]->signal(SIGTERM);
    for (const auto& name : {"backend-2", "backend-3"}) nodes[name]->wait_exit(20);
    auto lost = rows(*cluster);
    interleave(lost, n, 503);
    print("Quorum lost (backend-2 and backend-3 stopped), asking backend-1; right answer: 503", lost, n);
    return 0;
}
