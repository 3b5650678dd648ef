// The spec's owner: end to end as root (issue 13 item 2): provision gives each node's folder to nobody
// (keys 0600 nobody:nogroup) or to root:nogroup (keys 0640, mode: group), lint is clean, --check shows a
// changed owner as a pending update, and one node runs as nobody on 127.0.0.91 (this test's own address)
// to /health 200.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>

#include "backend_fixture.hpp"
#include "support.hpp"

namespace trellis::testing {
namespace {

namespace fs = std::filesystem;
constexpr uid_t kNobody = 65534;   // Debian's nobody
constexpr gid_t kNogroup = 65534;  // ... and nogroup

const std::string kOne = R"(cluster: {name: owned}
owner: {user: nobody, group: nogroup}
nodes:
  - {name: o1, address: 127.0.0.91}
clients:
  - name: admin
)";

// Three nodes that never start: the spec's group mode, and one node that names its own owner.
const std::string kThree = R"(cluster: {name: grouped}
owner: {user: nobody, group: nogroup, mode: group}
nodes:
  - {name: g1, address: 127.0.0.92}
  - {name: g2, address: 127.0.0.93}
  - {name: g3, address: 127.0.0.94, owner: {user: nobody}}
)";

RunResult cc(const std::vector<std::string>& args, const fs::path& cwd) {
    std::vector<std::string> argv{build_path("cluster-config/cluster-config").string()};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv, {}, cwd, 120);
}

struct stat stat_of(const fs::path& p) {
    struct stat st {};
    if (::stat(p.c_str(), &st) != 0) throw std::runtime_error("cannot stat " + p.string());
    return st;
}

class Owner : public ::testing::Test {
  protected:
    void SetUp() override {
        if (::geteuid() != 0) GTEST_SKIP() << "giving files to another user needs root";
    }
    TempDir dir;
};

TEST_F(Owner, GroupModeGivesEveryKeyToRootAndTheGroupAndLintAgrees) {
    spit(dir / "spec.yml", kThree);
    const RunResult r = cc({"provision", "spec.yml", "--out", "out"}, dir.path());
    ASSERT_EQ(r.exit_code, 0) << r.err;
    size_t keys = 0;
    for (const auto& e : fs::recursive_directory_iterator(dir / "out")) {
        if (!e.is_regular_file()) continue;
        const fs::path rel = fs::relative(e.path(), dir / "out");
        const std::string top = rel.begin()->string(), name = rel.filename().string();
        if (top == "ca" || name.starts_with(".")) continue;
        const struct stat st = stat_of(e.path());
        const bool key = name.ends_with("-key.pem");
        const bool own = top == "g3";  // user mode: nobody:nobody's primary group
        SCOPED_TRACE(rel.string());
        EXPECT_EQ(st.st_uid, own ? kNobody : 0u);
        EXPECT_EQ(st.st_gid, kNogroup);
        EXPECT_EQ(st.st_mode & 07777, key ? (own ? 0600u : 0640u) : 0644u);
        keys += key;
    }
    EXPECT_EQ(keys, 9u);  // 3 x (server, peer, API)
    EXPECT_EQ(stat_of(dir / "out/ca/ca-key.pem").st_uid, 0u);
    EXPECT_EQ(stat_of(dir / "out/ca/ca-key.pem").st_mode & 07777, 0600u);
    const RunResult lint = cc({"lint", "out/g1/backend.yml", "out/g2/backend.yml", "out/g3/backend.yml"}, dir.path());
    EXPECT_EQ(lint.exit_code, 0) << lint.out << lint.err;
    EXPECT_NE(slurp(dir / "out/g1/trellis-backend.service").find("\nUser=nobody\nGroup=nogroup\n"), std::string::npos);

    // A key handed back to root:root by hand: --check reports it (exit 5), provision fixes it, nothing reissued.
    const std::string before = slurp(dir / "out/g2/g2-key.pem");
    ASSERT_EQ(::chown((dir / "out/g2/g2-key.pem").c_str(), 0, 0), 0);
    const RunResult check = cc({"provision", "spec.yml", "--out", "out", "--check"}, dir.path());
    EXPECT_EQ(check.exit_code, 5) << check.out << check.err;
    EXPECT_NE(check.out.find("owner is 0:0, not 0:65534"), std::string::npos) << check.out;
    ASSERT_EQ(cc({"provision", "spec.yml", "--out", "out"}, dir.path()).exit_code, 0);
    EXPECT_EQ(stat_of(dir / "out/g2/g2-key.pem").st_gid, kNogroup);
    EXPECT_EQ(slurp(dir / "out/g2/g2-key.pem"), before);
    EXPECT_EQ(cc({"provision", "spec.yml", "--out", "out", "--check"}, dir.path()).exit_code, 0);
}

TEST_F(Owner, AnUnknownUserIsOneLineAndNothingIsWritten) {
    spit(dir / "spec.yml", "owner: {user: no-such-trellis-user}\n" + kThree.substr(kThree.find("nodes:")));
    spit(dir / "spec.yml", "cluster: {name: x}\n" + slurp(dir / "spec.yml"));
    const RunResult r = cc({"provision", "spec.yml", "--out", "out"}, dir.path());
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.err.find("spec.yml:2: owner.user: no user \"no-such-trellis-user\" on this machine"), std::string::npos)
        << r.err;
    EXPECT_NE(r.err.find("(code 14004)"), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(dir / "out"));
}

// One node on 127.0.0.91 run as nobody:nogroup from the files provision gave it: its own keys (mode user),
// or keys of root that its group reads (mode group).
class OwnerRun : public Owner, public ::testing::WithParamInterface<bool> {};

TEST_P(OwnerRun, ANodeRunsAsNobodyFromTheFilesProvisionGaveIt) {
    const bool group_mode = GetParam();
    std::string spec = kOne;
    if (group_mode) spec.replace(spec.find("group: nogroup}"), 15, "group: nogroup, mode: group}");
    spit(dir / "spec.yml", spec);
    ProvisionedCluster cluster(dir / "spec.yml", dir.path());
    for (const auto& key : {"o1-key.pem", "o1-peer-key.pem", "o1-api-key.pem"}) {
        const struct stat st = stat_of(cluster.out() / "o1" / key);
        EXPECT_EQ(st.st_uid, group_mode ? 0u : kNobody) << key;
        EXPECT_EQ(st.st_gid, kNogroup) << key;
        EXPECT_EQ(st.st_mode & 07777, group_mode ? 0640u : 0600u) << key;
    }
    const RunResult lint = cc({"lint", "out/o1/backend.yml"}, dir.path());
    EXPECT_EQ(lint.exit_code, 0) << lint.out << lint.err;
    // nobody must reach its folder: the test's scratch folders are root's 0700.
    for (const auto& d : {dir.path(), cluster.out()}) fs::permissions(d, fs::perms(0755));
    const fs::path state = cluster.state_dir("o1");
    fs::create_directories(state);
    ASSERT_EQ(::chown(state.c_str(), kNobody, kNogroup), 0);
    fs::permissions(state, fs::perms(0700));
    ChildProcess node({"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                       build_path("backend/trellis-backend").string(), "start", "--config",
                       cluster.config("o1").string(), "--state-dir", state.string()},
                      cluster.log("o1"));
    const auto api = cluster.api("o1");
    EXPECT_TRUE(wait_healthy(*api, 1, std::chrono::seconds(60))) << node.log_tail();
    EXPECT_FALSE(node.wait_exit(0).has_value()) << node.log_tail();
    // It is nobody that serves, and its etcd too.
    std::vector<pid_t> pids = etcd_pids_mentioning(state.string());
    ASSERT_FALSE(pids.empty());
    pids.push_back(node.pid());
    for (const pid_t pid : pids) EXPECT_EQ(stat_of("/proc/" + std::to_string(pid)).st_uid, kNobody) << pid;
}

INSTANTIATE_TEST_SUITE_P(Modes, OwnerRun, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "GroupMode" : "UserMode"; });

}  // namespace
}  // namespace trellis::testing
