// Issue 12's proofs for snapshots, restore and quorum-loss recovery, with real backends and etcd on
// this test's own loopback addresses (127.0.0.131-136) and the standard ports:
// scheduled snapshots come from the leader only and show in /health; `trellisctl cluster snapshot
// save` on a live cluster under a writer, checked against etcdctl; `cluster-config restore` into a
// new 3-node cluster with every key acknowledged before the snapshot and a new cluster ID; and
// losing 2 of 3 members with their data, `trellis-backend recover` on the survivor, the two added
// again with fresh data: 3 healthy, every acknowledged key on every node.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <chrono>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "backend_fixture.hpp"
#include "writer.hpp"

namespace trellis::testing {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;
using nlohmann::json;

constexpr const char* kPrefix = "/writer/";

// Every key of `acked` is on `node` with its value; the number missing (0 when all are there).
std::size_t missing_on(const ProvisionedCluster& cluster, const std::string& node,
                       const std::map<std::string, std::string>& acked) {
    return missing_keys(cluster, node, kPrefix, acked);
}

mode_t mode_of(const fs::path& p) {
    struct stat st {};
    ::stat(p.c_str(), &st);
    return st.st_mode & 0777;
}

class Recovery : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        dir_ = new TempDir();
        fs::create_directories(dir_->path() / "snap");
        cluster_ = new ProvisionedCluster(source_path("tests/data/recovery/snap-3.yml"), dir_->path() / "snap");
        for (std::size_t i = 0; i < 3; ++i) nodes_[i] = start(i).release();
    }
    static void TearDownTestSuite() {
        for (auto*& n : nodes_) {
            delete n;
            n = nullptr;
        }
        delete cluster_;
        delete dir_;
    }
    void TearDown() override {
        if (HasFailure())
            for (std::size_t i = 0; i < 3; ++i)
                if (nodes_[i]) std::cerr << "---- " << name(i) << " log:\n" << nodes_[i]->log_tail(6000);
    }

    static const std::string& name(std::size_t i) { return cluster_->nodes().at(i); }
    static std::vector<std::string> backend_flags() {
        return {"--log-level",         "info", "--etcd-ready-timeout", "60", "--stop-timeout", "5",
                "--snapshot-interval", "2s",   "--snapshot-retain",    "2"};
    }
    static std::unique_ptr<ChildProcess> start(std::size_t i, const std::vector<std::string>& extra = {}) {
        auto flags = backend_flags();
        flags.insert(flags.end(), extra.begin(), extra.end());
        return cluster_->start(name(i), flags);
    }
    static void stop(std::size_t i) {
        delete nodes_[i];  // SIGTERM, reaped
        nodes_[i] = nullptr;
    }
    static std::string api_urls() {
        std::string urls;
        for (std::size_t i = 0; i < 3; ++i) urls += (i ? "," : "") + cluster_->api_url(name(i));
        return urls;
    }
    static RunResult ctl(std::vector<std::string> args, int timeout = 60) {
        std::vector<std::string> argv{build_path("ctl/trellisctl").string(),
                                      "--url",
                                      api_urls(),
                                      "--trusted-ca-file",
                                      cluster_->admin_ca().string(),
                                      "--cert-file",
                                      cluster_->admin_cert().string(),
                                      "--key-file",
                                      cluster_->admin_key().string(),
                                      "--timeout",
                                      "10s"};
        argv.insert(argv.end(), args.begin(), args.end());
        return run(argv, {}, {}, timeout);
    }
    static RunResult recover(std::size_t i) {
        return run({build_path("backend/trellis-backend").string(), "recover", "--config",
                    cluster_->config(name(i)).string(), "--state-dir", cluster_->state_dir(name(i)).string()},
                   {}, {}, 120);
    }
    static std::unique_ptr<Writer> writer(const std::string& prefix = kPrefix) {
        std::vector<std::string> endpoints;
        for (std::size_t i = 0; i < 3; ++i) endpoints.push_back(cluster_->client_url(name(i)));
        return std::make_unique<Writer>(endpoints,
                                        store::TlsFiles{cluster_->admin_cert().string(), cluster_->admin_key().string(),
                                                        cluster_->admin_ca().string()},
                                        prefix);
    }
    static void readd(std::size_t i);
    static std::uint64_t cluster_id(const ProvisionedCluster& cluster, const std::string& node) {
        const auto [status, body] = get_health(*cluster.api(node));
        return body["Header"]["cluster_id"].get<std::uint64_t>();
    }

    static inline TempDir* dir_ = nullptr;
    static inline ProvisionedCluster* cluster_ = nullptr;
    static inline ChildProcess* nodes_[3] = {};
    // Test order matters: the snapshot feeds the restore, and recovery breaks the cluster last.
    static inline fs::path snapshot_;
    static inline std::map<std::string, std::string> before_snapshot_, acked_;
};

TEST_F(Recovery, ScheduledSnapshotsComeFromTheLeaderOnlyAndShowInHealth) {
    ASSERT_TRUE(wait_healthy(*cluster_->api(name(0)), 3, 60s)) << "not healthy within 60 s";
    // Every node reports the cluster's last scheduled snapshot (the leader records it in etcd).
    std::set<std::string> files;
    for (std::size_t i = 0; i < 3; ++i) {
        json snapshot;
        const auto deadline = Clock::now() + 30s;
        while (Clock::now() < deadline && !snapshot.is_object()) {
            const auto [status, body] = get_health(*cluster_->api(name(i)));
            if (body.contains("Snapshot") && body["Snapshot"]["LastSuccess"].is_object())
                snapshot = body["Snapshot"]["LastSuccess"];
            else
                std::this_thread::sleep_for(200ms);
        }
        ASSERT_TRUE(snapshot.is_object()) << name(i) << " reports no scheduled snapshot within 30 s";
        EXPECT_EQ(snapshot["SHA256"].get<std::string>().size(), 64u) << snapshot.dump();
        files.insert(snapshot["File"].get<std::string>());
    }
    std::this_thread::sleep_for(7s);  // several more intervals: retention must have pruned
    std::size_t dirs_with_snapshots = 0;
    for (std::size_t i = 0; i < 3; ++i) {
        const fs::path dir = cluster_->state_dir(name(i)) / "snapshots";
        std::size_t n = 0;
        for (const auto& e : fs::directory_iterator(dir)) {
            ++n;
            EXPECT_EQ(mode_of(e.path()), 0600u) << e.path();
            EXPECT_EQ(e.path().extension(), ".db") << "a temp file was left behind: " << e.path();
        }
        EXPECT_LE(n, 2u) << dir << " keeps more than snapshot-retain";
        dirs_with_snapshots += n > 0;
        EXPECT_EQ(mode_of(dir), 0700u);
    }
    EXPECT_EQ(dirs_with_snapshots, 1u) << "more than one member took scheduled snapshots";
    const RunResult status = ctl({"cluster", "snapshot", "status", *files.rbegin()});
    // The newest reported may already be pruned; any surviving one must check out.
    if (fs::exists(*files.rbegin())) {
        EXPECT_EQ(status.exit_code, 0) << status.err;
    }
}

TEST_F(Recovery, SnapshotSaveUnderAWriterAgreesWithEtcdctl) {
    ASSERT_TRUE(wait_healthy(*cluster_->api(name(0)), 3, 30s));
    auto w = writer();
    w->start();
    ASSERT_TRUE(w->wait_for_more(300, 60)) << "the writer got no acknowledgements";
    before_snapshot_ = w->acknowledged();  // acknowledged before the snapshot was asked for
    snapshot_ = dir_->path() / "backup" / "snap-3.db";
    fs::create_directories(snapshot_.parent_path());
    const auto t0 = Clock::now();
    const RunResult save = ctl({"cluster", "snapshot", "save", snapshot_.string()});
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count();
    EXPECT_TRUE(w->wait_for_more(100, 30)) << "the writer stalled after the snapshot";
    w->stop();
    acked_ = w->acknowledged();
    std::cerr << "snapshot save took " << ms << " ms; writer: " << w->requests() << " requests, " << acked_.size()
              << " acknowledged, " << w->failures() << " failed\n";
    ASSERT_EQ(save.exit_code, 0) << save.err;
    EXPECT_NE(save.out.find("Snapshot saved at " + snapshot_.string()), std::string::npos) << save.out;
    EXPECT_EQ(mode_of(snapshot_), 0600u);
    std::size_t entries = 0;
    for (const auto& e : fs::directory_iterator(snapshot_.parent_path())) entries += e.path() == snapshot_ ? 1 : 100;
    EXPECT_EQ(entries, 1u) << "a temp file was left next to the snapshot";

    // Our status and etcd's own tool agree on the file.
    const RunResult ours = ctl({"--format", "json", "cluster", "snapshot", "status", snapshot_.string()});
    ASSERT_EQ(ours.exit_code, 0) << ours.err;
    const RunResult theirs = run({"/usr/bin/etcdctl", "snapshot", "status", snapshot_.string(), "-w", "json"});
    ASSERT_EQ(theirs.exit_code, 0) << theirs.err;
    const json a = json::parse(ours.out), b = json::parse(theirs.out);
    for (const char* key : {"hash", "revision", "totalKey", "totalSize"}) EXPECT_EQ(a[key], b[key]) << key;
    EXPECT_GE(a["totalKey"].get<std::size_t>(), before_snapshot_.size());

    // Nothing the user has is overwritten without --overwrite; a damaged copy is refused by its hash.
    const std::string bytes = slurp(snapshot_);
    const RunResult again = ctl({"cluster", "snapshot", "save", snapshot_.string()});
    EXPECT_EQ(again.exit_code, 1);
    EXPECT_NE(again.err.find("already exists"), std::string::npos) << again.err;
    EXPECT_EQ(slurp(snapshot_), bytes);
    std::string damaged = bytes;
    damaged[damaged.size() / 2] ^= 0x5a;
    spit(dir_->path() / "damaged.db", damaged);
    const RunResult bad = ctl({"cluster", "snapshot", "status", (dir_->path() / "damaged.db").string()});
    EXPECT_EQ(bad.exit_code, 1);
    EXPECT_NE(bad.err.find("SHA-256"), std::string::npos) << bad.err;

    for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ(missing_on(*cluster_, name(i), acked_), 0u) << name(i);
}

TEST_F(Recovery, RestoreMakesANewClusterWithEveryKeyAcknowledgedBeforeTheSnapshot) {
    ASSERT_FALSE(snapshot_.empty()) << "needs the snapshot of the previous test";
    fs::create_directories(dir_->path() / "restored");
    ProvisionedCluster restored(source_path("tests/data/recovery/restored-3.yml"), dir_->path() / "restored");
    const fs::path root = dir_->path() / "restored" / "root";
    restored.use_state_root(root);
    const std::vector<std::string> argv{build_path("cluster-config/cluster-config").string(),
                                        "restore",
                                        source_path("tests/data/recovery/restored-3.yml").string(),
                                        "--out",
                                        restored.out().string(),
                                        "--snapshot",
                                        snapshot_.string(),
                                        "--state-root",
                                        root.string()};
    const RunResult r = run(argv, {}, {}, 120);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("trellis-backend start --config " + restored.config("backend-1").string()), std::string::npos)
        << r.out;
    // A second restore would touch existing data: refused, and nothing changes.
    const RunResult again = run(argv, {}, {}, 120);
    EXPECT_EQ(again.exit_code, 1);
    EXPECT_NE(again.err.find("already exists"), std::string::npos) << again.err;

    std::vector<std::unique_ptr<ChildProcess>> nodes;
    for (const auto& node : restored.nodes())
        nodes.push_back(
            restored.start(node, {"--log-level", "info", "--etcd-ready-timeout", "60", "--stop-timeout", "5"}));
    ASSERT_TRUE(wait_healthy(*restored.api("backend-1"), 3, 60s)) << nodes[0]->log_tail(4000);
    EXPECT_NE(cluster_id(restored, "backend-1"), cluster_id(*cluster_, name(0))) << "the restored cluster kept the ID";
    for (const auto& node : restored.nodes()) {
        const auto have = read_prefix(restored, node, kPrefix);
        std::size_t missing = 0, differ = 0;
        for (const auto& [key, value] : before_snapshot_) missing += have.count(key) == 0;
        for (const auto& [key, value] : have) differ += acked_.count(key) && acked_.at(key) != value;
        EXPECT_EQ(missing, 0u) << node << " lacks keys acknowledged before the snapshot";
        EXPECT_EQ(differ, 0u) << node << " has other values than were acknowledged";
        EXPECT_GE(have.size(), before_snapshot_.size()) << node;
        std::cerr << node << " (restored): " << have.size() << " keys, " << before_snapshot_.size()
                  << " acknowledged before the snapshot\n";
    }
}

// Adds `i` again with an empty state dir (learner or voter, as member-add does) and starts it with the
// settings member-add prints, retrying while etcd refuses the change for a bounded time.
void Recovery::readd(std::size_t i) {
    fs::remove_all(cluster_->state_dir(name(i)));
    const std::string peer = "https://127.0.0.13" + std::to_string(i + 1) + ":2380";
    RunResult add;
    for (const auto deadline = Clock::now() + 60s; Clock::now() < deadline; std::this_thread::sleep_for(1s)) {
        add = ctl({"--format", "json", "cluster", "member-add", name(i), peer});
        if (add.exit_code == 0) break;
    }
    ASSERT_EQ(add.exit_code, 0) << add.err;
    const json env = json::parse(add.out)["Environment"];
    nodes_[i] = start(i, {"--etcd-initial-cluster", env["ETCD_INITIAL_CLUSTER"].get<std::string>(),
                          "--etcd-initial-cluster-state", "existing"})
                    .release();
}

TEST_F(Recovery, LosingTwoOfThreeAndTheirDataRecoversFromTheSurvivor) {
    ASSERT_TRUE(wait_healthy(*cluster_->api(name(0)), 3, 60s));
    // While the others answer, recovering backend-1 would split the cluster: refused.
    stop(0);
    const RunResult refused = recover(0);
    EXPECT_EQ(refused.exit_code, 1);
    EXPECT_NE(refused.err.find("quorum"), std::string::npos) << refused.err;
    nodes_[0] = start(0).release();
    ASSERT_TRUE(wait_healthy(*cluster_->api(name(0)), 3, 60s));

    auto w = writer(std::string(kPrefix) + "quorum-loss/");  // keys apart from the snapshot test's
    w->start();
    ASSERT_TRUE(w->wait_for_more(200, 60));
    nodes_[1]->signal(SIGKILL);
    ASSERT_EQ(nodes_[1]->wait_exit(5), 128 + SIGKILL);
    // Acknowledged with backend-2 gone, a write needs backend-1: from here it holds every earlier one.
    ASSERT_TRUE(w->wait_for_more(100, 60)) << "no writes after losing one of three";
    nodes_[2]->signal(SIGKILL);
    ASSERT_EQ(nodes_[2]->wait_exit(5), 128 + SIGKILL);
    std::this_thread::sleep_for(1s);
    w->stop();
    for (const auto& [key, value] : w->acknowledged()) acked_[key] = value;
    std::cerr << "writer: " << w->requests() << " requests, " << w->acknowledged().size() << " acknowledged, "
              << w->failures() << " failed (quorum lost)\n";
    for (std::size_t i : {1, 2}) {
        stop(i);
        fs::remove_all(cluster_->state_dir(name(i)));
    }

    const RunResult running = recover(0);
    EXPECT_EQ(running.exit_code, 1) << "recover ran beside a running etcd";
    EXPECT_NE(running.err.find("stop its trellis-backend"), std::string::npos) << running.err;
    stop(0);
    const auto t0 = Clock::now();
    const RunResult recovered = recover(0);
    ASSERT_EQ(recovered.exit_code, 0) << recovered.err << recovered.out;
    std::cerr << "recover took " << std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count()
              << " ms\n";
    EXPECT_NE(recovered.out.find("recovered backend-1"), std::string::npos) << recovered.out;
    nodes_[0] = start(0).release();
    ASSERT_TRUE(wait_healthy(*cluster_->api(name(0)), 1, 60s)) << "the survivor does not serve alone";
    EXPECT_EQ(missing_on(*cluster_, name(0), acked_), 0u) << "the survivor lost acknowledged keys";

    readd(1);
    ASSERT_TRUE(wait_healthy(*cluster_->api(name(0)), 2, 60s));
    readd(2);
    ASSERT_TRUE(wait_healthy(*cluster_->api(name(0)), 3, 90s));
    for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ(missing_on(*cluster_, name(i), acked_), 0u) << name(i);
    std::cerr << acked_.size() << " acknowledged keys on all three nodes after recovery\n";
}

}  // namespace
}  // namespace trellis::testing
