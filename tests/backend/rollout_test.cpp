// `trellisctl cluster rollout` on a live 3-node cluster (127.0.0.161-163, standard ports) while a writer
// puts keys through all three client URLs: every etcd restarts once, one node at a time, leadership
// moves off the leader first, the backends themselves keep running, the cluster never drops below a
// quorum, and every acknowledged key is on every node afterwards.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <set>
#include <sstream>
#include <thread>

#include "backend_fixture.hpp"
#include "writer.hpp"

namespace trellis::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

constexpr const char* kPrefix = "/rollout/";

std::size_t missing_on(const ProvisionedCluster& cluster, const std::string& node,
                       const std::map<std::string, std::string>& acked) {
    return missing_keys(cluster, node, kPrefix, acked);
}

TEST(Rollout, EveryEtcdRestartsOnceUnderAWriterWithAQuorumThroughoutAndNoAcknowledgedWriteLost) {
    TempDir dir;
    const ProvisionedCluster cluster(source_path("tests/data/rollout/rollout-3.yml"), dir.path());
    std::vector<std::unique_ptr<ChildProcess>> nodes;
    for (const auto& n : cluster.nodes())
        nodes.push_back(cluster.start(n, {"--log-level", "info", "--etcd-ready-timeout", "60", "--stop-timeout", "5"}));
    ASSERT_TRUE(wait_healthy(*cluster.api("backend-1"), 3, 60s)) << nodes[0]->log_tail();

    std::vector<std::string> endpoints, api_urls;
    for (const auto& n : cluster.nodes()) {
        endpoints.push_back(cluster.client_url(n));
        api_urls.push_back(cluster.api_url(n));
    }
    Writer writer(
        endpoints,
        store::TlsFiles{cluster.admin_cert().string(), cluster.admin_key().string(), cluster.admin_ca().string()},
        kPrefix);
    writer.start();
    ASSERT_TRUE(writer.wait_for_more(30, 30));
    QuorumSampler quorum(cluster, 1000);
    std::string urls;
    for (const auto& u : api_urls) urls += (urls.empty() ? "" : ",") + u;
    const RunResult r = run({build_path("ctl/trellisctl").string(), "--url", urls, "--trusted-ca-file",
                             cluster.admin_ca().string(), "--cert-file", cluster.admin_cert().string(), "--key-file",
                             cluster.admin_key().string(), "--timeout", "3m", "--format", "json", "cluster", "rollout"},
                            {}, {}, 400);
    ASSERT_TRUE(writer.wait_for_more(30, 30)) << "the writer stalled after the rollout";
    quorum.stop();
    writer.stop();

    ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
    const json doc = json::parse(r.out);
    ASSERT_EQ(doc["Nodes"].size(), 3u) << doc;
    std::set<std::string> restarted;
    std::size_t leader_moves = 0;
    for (const auto& n : doc["Nodes"]) {
        restarted.insert(n["Node"].get<std::string>());
        EXPECT_NE(n["OldPid"], n["NewPid"]) << n;
        leader_moves += n["LeaderMovedTo"].get<std::string>().empty() ? 0 : 1;
        ASSERT_EQ(n["Serving"].size(), 3u) << n;
        for (const auto& s : n["Serving"]) EXPECT_TRUE(s["Match"].get<bool>()) << s;
    }
    EXPECT_EQ(restarted, (std::set<std::string>{"backend-1", "backend-2", "backend-3"}));
    EXPECT_GE(leader_moves, 1u) << "the leader was restarted without handing leadership over";
    for (auto& n : nodes) EXPECT_FALSE(n->wait_exit(0)) << "a backend exited: " << n->log_tail();
    EXPECT_NE(r.err.find("rollout: backend-3: etcd pid"), std::string::npos) << r.err;
    EXPECT_GE(quorum.fewest_healthy(), 2u) << "the cluster dropped below a quorum (" << quorum.samples() << " samples)";

    const auto acked = writer.acknowledged();
    std::cout << "rollout under load: " << writer.requests() << " requests, " << writer.failures() << " failed, "
              << acked.size() << " acknowledged; fewest healthy members seen " << quorum.fewest_healthy() << " in "
              << quorum.samples() << " samples\n";
    ASSERT_GT(acked.size(), 60u);
    for (const auto& n : cluster.nodes()) EXPECT_EQ(missing_on(cluster, n, acked), 0u) << n;
    EXPECT_NE(nodes[0]->log().find("rollout: restarting etcd"), std::string::npos);
}

}  // namespace
}  // namespace trellis::testing
