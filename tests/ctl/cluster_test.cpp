// trellisctl against real trellis-backend processes (and their etcd) on 127.0.0.11-14:
// examples/loopback-3.yml provisioned with cluster-config, every wait bounded.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <memory>
#include <thread>

#include <nlohmann/json.hpp>

#include "backend_fixture.hpp"
#include "support.hpp"

namespace {

using nlohmann::json;
using trellis::testing::ChildProcess;
using trellis::testing::ProvisionedCluster;
using trellis::testing::RunResult;

constexpr int kStartSeconds = 60;  // three etcd members electing a leader on 2 shared cores

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// `text` with every run of spaces folded to one, so a table row can be matched whatever its padding.
std::string squeeze(const std::string& text) {
    std::string out;
    for (char c : text)
        if (c != ' ' || out.empty() || out.back() != ' ') out += c;
    return out;
}

std::vector<std::string> lines(const std::string& text) {
    std::vector<std::string> out;
    std::size_t start = 0;
    for (std::size_t nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1)
        out.push_back(text.substr(start, nl - start));
    return out;
}

class LoopbackCluster : public ::testing::Test {
  protected:
    void SetUp() override {
        for (const char* name : {"TRELLISCTL_URL", "TRELLISCTL_TRUSTED_CA_FILE", "TRELLISCTL_CERT_FILE",
                                 "TRELLISCTL_KEY_FILE", "TRELLISCTL_TIMEOUT", "TRELLISCTL_CONFIG", "XDG_CONFIG_HOME"})
            ::unsetenv(name);
        ::setenv("HOME", dir.path().c_str(), 1);
        cluster = std::make_unique<ProvisionedCluster>(spec(), dir.path());
    }

    static std::string spec() { return trellis::testing::source_path("examples/loopback-3.yml").string(); }
    static std::string api(int n) { return "https://127.0.0." + std::to_string(10 + n) + ":8080"; }

    // backend-<n> from the files provision (or member-add --render) wrote under out/.
    std::unique_ptr<ChildProcess> start(int n, const std::vector<std::string>& extra = {}) {
        return cluster->start("backend-" + std::to_string(n), extra);
    }

    // trellisctl run in the folder provision ran in: the default certificate paths are the admin's there.
    RunResult ctl(std::vector<std::string> args) {
        args.insert(args.begin(), trellis::testing::build_path("ctl/trellisctl").string());
        return trellis::testing::run(args, {}, dir.path(), 60);
    }

    // Polls `cluster health` until `done` holds for its result, for at most `seconds`.
    RunResult health_until(const std::string& urls, const std::function<bool(const RunResult&, const json&)>& done,
                           int seconds = kStartSeconds) {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
        RunResult last;
        while (std::chrono::steady_clock::now() < deadline) {
            last = ctl({"--url", urls, "--timeout", "5s", "cluster", "health", "--format", "json"});
            json doc;
            try {
                doc = json::parse(last.out);
            } catch (const json::exception&) {
            }
            if (doc.is_object() && done(last, doc)) return last;
            std::this_thread::sleep_for(std::chrono::milliseconds(500));
        }
        ADD_FAILURE() << "health never reached the expected state within " << seconds << " s; last: exit "
                      << last.exit_code << " " << last.out << last.err;
        return last;
    }

    static std::function<bool(const RunResult&, const json&)> all_healthy(std::size_t n) {
        return
            [n](const RunResult& r, const json& doc) { return r.exit_code == 0 && doc["ClusterHealth"].size() == n; };
    }

    static std::string all_urls() { return api(1) + "," + api(2) + "," + api(3); }

    // Declared first: held until every process below is gone.
    trellis::testing::LoopbackLock lock;
    trellis::testing::TempDir dir;
    std::unique_ptr<ProvisionedCluster> cluster;
};

TEST_F(LoopbackCluster, MembershipLifecycleThroughTrellisctl) {
    std::vector<std::unique_ptr<ChildProcess>> nodes;
    for (int n = 1; n <= 3; ++n) nodes.push_back(start(n));
    health_until(all_urls(), all_healthy(3));

    // The guide's table: title, header, rule, three healthy rows; exit 0.
    RunResult r = ctl({"--url", all_urls(), "cluster", "health"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto table = lines(r.out);
    ASSERT_EQ(table.size(), 6u) << r.out;
    EXPECT_EQ(table[0].rfind("=== Etcd Cluster ID: ", 0), 0u);
    for (int i = 3; i < 6; ++i) EXPECT_EQ(table[i].substr(table[i].size() - 4), "true") << table[i];

    // Pointed at etcd's client port (which trusts the same client CA), trellisctl says it is not our API
    // instead of printing an empty table.
    for (const auto& command : {"health", "member-list"}) {
        r = ctl({"--url", "https://127.0.0.11:2379", "cluster", command});
        EXPECT_EQ(r.exit_code, 1) << command << ": " << r.out << r.err;
        EXPECT_TRUE(contains(r.err, "https://127.0.0.11:2379: this is not a Trellis API")) << command << ": " << r.err;
        EXPECT_EQ(r.out, "") << command;
    }

    // member-add with --render writes the node's files and prints the guide's environment lines. etcd refuses
    // new members ("unhealthy cluster") until every member has been connected for 5 s: retry, bounded.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    do {
        r = ctl({"--url", all_urls(), "cluster", "member-add", "backend-4", "https://127.0.0.14:2380", "--render",
                 spec(), "--out", "out"});
        if (r.exit_code == 0 || !contains(r.err, "unhealthy cluster")) break;
        EXPECT_FALSE(std::filesystem::exists(dir.path() / "out" / "backend-4" / "backend.yml")) << "not taken back";
        std::this_thread::sleep_for(std::chrono::seconds(1));
    } while (std::chrono::steady_clock::now() < deadline);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto added = lines(r.out);
    ASSERT_GE(added.size(), 5u) << r.out;
    ASSERT_EQ(added[0].rfind("added member ", 0), 0u) << r.out;
    // sensuctl's line: the ID in Go's %x (lower-case hex, no leading zeros).
    const std::string id4 = added[0].substr(13, added[0].find(' ', 13) - 13);
    EXPECT_EQ(added[0], "added member " + id4 + " to cluster");
    ASSERT_FALSE(id4.empty());
    EXPECT_NE(id4[0], '0') << added[0];
    EXPECT_EQ(added[1], "");
    EXPECT_EQ(added[2], "ETCD_NAME=\"backend-4\"");
    EXPECT_TRUE(contains(added[3], "backend-4=https://127.0.0.14:2380")) << added[3];
    for (int n = 1; n <= 3; ++n)
        EXPECT_TRUE(
            contains(added[3], "backend-" + std::to_string(n) + "=https://127.0.0.1" + std::to_string(n) + ":2380"))
            << added[3];
    EXPECT_EQ(added[4], "ETCD_INITIAL_CLUSTER_STATE=\"existing\"");
    const auto node4 = dir.path() / "out" / "backend-4";
    ASSERT_TRUE(std::filesystem::exists(node4 / "backend.yml"));
    EXPECT_TRUE(contains(trellis::testing::slurp(node4 / "backend.yml"), "existing"));
    struct stat st {};
    ASSERT_EQ(::stat((node4 / "backend-4-key.pem").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    for (const auto& entry : std::filesystem::directory_iterator(node4))
        EXPECT_FALSE(contains(entry.path().filename().string(), "ca-key")) << entry.path();

    // Started from the rendered files, backend-4 joins: four healthy members, four in the list.
    auto node_4 = start(4);
    const std::string urls4 = all_urls() + "," + api(4);
    health_until(urls4, all_healthy(4));
    r = ctl({"--url", urls4, "cluster", "member-list", "--format", "json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    json list = json::parse(r.out);
    // Sensu's (etcd's) document: the ID an exact unsigned 64-bit number, the line's hex the same ID.
    ASSERT_EQ(list["members"].size(), 4u) << r.out;
    bool found = false;
    for (const auto& m : list["members"])
        if (m["ID"].get<std::uint64_t>() == std::stoull(id4, nullptr, 16)) {
            found = true;
            EXPECT_EQ(m["name"], "backend-4");
            EXPECT_EQ(m["clientURLs"], json::array({"https://127.0.0.14:2379"}));
            EXPECT_FALSE(m.contains("isLearner")) << m;
        }
    EXPECT_TRUE(found) << r.out;
    r = ctl({"--url", urls4, "cluster", "member-list"});
    EXPECT_EQ(lines(r.out).size(), 6u) << r.out;
    // Columns are padded to the widest ID, and %x drops leading zeros: compare with runs of spaces folded.
    EXPECT_TRUE(contains(squeeze(r.out), id4 + " backend-4 https://127.0.0.14:2380 https://127.0.0.14:2379")) << r.out;

    // member-update moves its peer URL to port 2390; restarted there, it stays healthy.
    r = ctl({"--url", urls4, "cluster", "member-update", id4, "https://127.0.0.14:2390"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "Updated member with ID " + id4 + " in cluster\n");
    r = ctl({"--url", urls4, "cluster", "member-list"});
    EXPECT_TRUE(contains(squeeze(r.out), id4 + " backend-4 https://127.0.0.14:2390")) << r.out;
    node_4.reset();  // SIGTERM, bounded
    node_4 = start(4, {"--etcd-listen-peer-urls", "https://127.0.0.14:2390", "--etcd-initial-advertise-peer-urls",
                       "https://127.0.0.14:2390", "--etcd-initial-cluster",
                       "backend-1=https://127.0.0.11:2380,backend-2=https://127.0.0.12:2380,"
                       "backend-3=https://127.0.0.13:2380,backend-4=https://127.0.0.14:2390"});
    health_until(urls4, all_healthy(4));
    EXPECT_FALSE(node_4->wait_exit(0).has_value()) << node_4->log_tail();

    // member-remove: three members again, and the removed backend exits on its own.
    r = ctl({"--url", all_urls(), "cluster", "member-remove", id4});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "Removed member " + id4 + " from cluster\n");
    r = ctl({"--url", all_urls(), "cluster", "member-list", "--format", "json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(json::parse(r.out)["members"].size(), 3u) << r.out;
    EXPECT_TRUE(node_4->wait_exit(30).has_value()) << "backend-4 still runs after its removal: " << node_4->log_tail();
    health_until(all_urls(), all_healthy(3));
}

TEST_F(LoopbackCluster, KilledBackendIsReportedAndAnotherUrlAnswers) {
    std::vector<std::unique_ptr<ChildProcess>> nodes;
    for (int n = 1; n <= 3; ++n) nodes.push_back(start(n));
    health_until(all_urls(), all_healthy(3));

    nodes[1]->kill_now();                            // backend-2, SIGKILL: its etcd must go with it
    const std::string urls = api(2) + "," + api(1);  // the dead one first
    health_until(urls, [](const RunResult& r, const json& doc) {
        return r.exit_code == 1 && doc["ClusterHealth"].size() == 3 &&
               std::any_of(doc["ClusterHealth"].begin(), doc["ClusterHealth"].end(),
                           [](const json& m) { return m["Name"] == "backend-2" && m["Healthy"] == false; });
    });
    RunResult r = ctl({"--url", urls, "cluster", "health"});
    EXPECT_EQ(r.exit_code, 1) << r.err;
    std::string row;
    for (const auto& line : lines(r.out))
        if (contains(line, "backend-2")) row = line;
    EXPECT_EQ(row.substr(row.size() - 5), "false") << r.out;
    EXPECT_TRUE(contains(row, "127.0.0.12:2379")) << "the connection error names the member's client URL: " << row;
    EXPECT_TRUE(contains(r.err, "warning: " + api(2) + ": connection refused")) << r.err;
    EXPECT_TRUE(contains(r.err, "error: cluster unhealthy: backend-2 (")) << r.err;

    // Adding a member while one of three is down would risk quorum: etcd refuses, we say why, and
    // the files --render wrote for it are taken back.
    r = ctl({"--url", urls, "cluster", "member-add", "backend-4", "https://127.0.0.14:2380", "--render", spec(),
             "--out", "out", "--wait", "2"});
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    EXPECT_TRUE(contains(r.err, "retrying for up to 2 s")) << r.err;
    EXPECT_TRUE(contains(r.err, "etcdserver: unhealthy cluster (HTTP 409, error 15002 StoreRequestFailed)")) << r.err;
    EXPECT_FALSE(std::filesystem::exists(dir.path() / "out" / "backend-4" / "backend.yml"));

    // Unknown member: a cluster error naming the ID.
    r = ctl({"--url", urls, "cluster", "member-remove", "0123456789abcdef"});
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_TRUE(contains(r.err, "error: no member 123456789abcdef in the cluster")) << r.err;  // %x, as sensuctl
    EXPECT_TRUE(contains(r.err, "(HTTP 404, error 15004 MemberNotFound)")) << r.err;

    // Only the dead backend: a connection error.
    r = ctl({"--url", api(2), "cluster", "member-list"});
    EXPECT_EQ(r.exit_code, 3) << r.err;
    EXPECT_EQ(r.err, "trellisctl: error: cannot reach the backend: " + api(2) +
                         ": connection refused or host unreachable (code 16001)\n");
}

}  // namespace
