// A node that joins later, end to end on 127.0.0.101-104 (this test's own addresses, standard ports):
// provision three, start them, `trellisctl cluster member-add --render` a fourth, start it, add it to
// the spec with join: existing, provision again, restart every node. The cluster stays healthy, lint is
// clean at every step, re-provisioning changes nothing, and no node is told to move its data away.
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <thread>

#include <nlohmann/json.hpp>

#include "backend_fixture.hpp"
#include "support.hpp"

namespace trellis::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr int kStartSeconds = 90;  // etcd members electing a leader on 2 shared cores

const std::string kSpec = R"(cluster: {name: joiners, token: joiners-token}
nodes:
  - {name: j1, address: 127.0.0.101}
  - {name: j2, address: 127.0.0.102}
  - {name: j3, address: 127.0.0.103}
clients:
  - name: admin
)";

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

class JoinLater : public ::testing::Test {
  protected:
    void SetUp() override {
        spit(dir.path() / "spec.yml", kSpec);
        cluster = std::make_unique<ProvisionedCluster>(dir.path() / "spec.yml", dir.path());
    }

    static std::string api(int n) { return "https://127.0.0." + std::to_string(100 + n) + ":8080"; }
    static std::string urls(int n) {
        std::string out;
        for (int i = 1; i <= n; ++i) out += (out.empty() ? "" : ",") + api(i);
        return out;
    }

    RunResult ctl(std::vector<std::string> args) {
        const std::vector<std::string> tls{
            build_path("ctl/trellisctl").string(), "--trusted-ca-file", cluster->admin_ca().string(), "--cert-file",
            cluster->admin_cert().string(),        "--key-file",        cluster->admin_key().string()};
        args.insert(args.begin(), tls.begin(), tls.end());
        return run(args, {}, dir.path(), 60);
    }

    RunResult cc(const std::vector<std::string>& args) {
        std::vector<std::string> argv{build_path("cluster-config/cluster-config").string()};
        argv.insert(argv.end(), args.begin(), args.end());
        return run(argv, {}, dir.path(), 120);
    }

    // Polls `cluster health` until n members answer healthy, for at most kStartSeconds.
    void healthy(int n) {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(kStartSeconds);
        RunResult last;
        while (std::chrono::steady_clock::now() < deadline) {
            last = ctl({"--url", urls(n), "--timeout", "5s", "cluster", "health", "--format", "json"});
            json doc = json::parse(last.out, nullptr, false);
            if (last.exit_code == 0 && doc.is_object() && doc["ClusterHealth"].size() == static_cast<size_t>(n)) return;
            std::this_thread::sleep_for(std::chrono::milliseconds(500));
        }
        FAIL() << n << " members never all healthy; last: exit " << last.exit_code << " " << last.out << last.err;
    }

    void lint_clean(const std::string& when) {
        const RunResult r = cc({"lint", "out"});
        EXPECT_EQ(r.exit_code, 0) << when << ": " << r.out << r.err;
    }

    TempDir dir;
    std::unique_ptr<ProvisionedCluster> cluster;
};

TEST_F(JoinLater, AJoinedNodeStaysJoinedThroughReprovisioningAndRestarts) {
    std::map<int, std::unique_ptr<ChildProcess>> nodes;
    for (int n = 1; n <= 3; ++n) nodes[n] = cluster->start("j" + std::to_string(n));
    healthy(3);

    // member-add --render: etcd refuses new members until every member has been connected for 5 s.
    RunResult r;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    do {
        r = ctl({"--url", urls(3), "cluster", "member-add", "j4", "https://127.0.0.104:2380", "--render", "spec.yml",
                 "--out", "out"});
        if (r.exit_code == 0 || !contains(r.err, "unhealthy cluster")) break;
        std::this_thread::sleep_for(std::chrono::seconds(1));
    } while (std::chrono::steady_clock::now() < deadline);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const std::string line = "  - {name: j4, address: 127.0.0.104, join: existing}";
    EXPECT_TRUE(contains(r.out, line)) << r.out;
    lint_clean("after member-add --render");  // no false L111 for the joining node

    nodes[4] = cluster->start("j4");
    healthy(4);

    // The node joins the spec as member-add printed it; provisioning again changes nothing at all.
    spit(dir.path() / "spec.yml",
         kSpec.substr(0, kSpec.find("clients:")) + line + "\n" + kSpec.substr(kSpec.find("clients:")));
    r = cc({"provision", "spec.yml", "--out", "out", "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const json result = json::parse(r.out);
    EXPECT_FALSE(result["changed"].get<bool>()) << r.out;
    EXPECT_EQ(result["certificates_issued"], 0);
    const std::string j4 = slurp(cluster->config("j4"));
    EXPECT_TRUE(contains(j4, "etcd-initial-cluster-state: \"existing\"")) << j4;
    EXPECT_FALSE(contains(slurp(cluster->config("j1")), "j4=")) << "j1's initial cluster was rewritten";
    lint_clean("after re-provisioning");

    // Restart every node from the re-provisioned files: healthy again, and no advice to move data away.
    for (int n = 4; n >= 1; --n) nodes[n].reset();  // SIGTERM, bounded
    for (int n = 1; n <= 4; ++n) nodes[n] = cluster->start("j" + std::to_string(n));
    healthy(4);
    for (int n = 1; n <= 4; ++n) {
        const std::string log = nodes[n]->log();
        EXPECT_FALSE(contains(log, "different cluster")) << "j" << n << ": " << log;
        EXPECT_FALSE(contains(log, "move it away")) << "j" << n << ": " << log;
        EXPECT_FALSE(contains(log, "move the data away")) << "j" << n << ": " << log;
        EXPECT_FALSE(nodes[n]->wait_exit(0).has_value()) << "j" << n << " exited: " << nodes[n]->log_tail();
    }
    r = ctl({"--url", urls(4), "cluster", "member-list", "--format", "json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(json::parse(r.out)["members"].size(), 4u) << r.out;
}

}  // namespace
}  // namespace trellis::testing
