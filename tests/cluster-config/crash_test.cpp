// kill -9 during provisioning (issue 9): after a kill at any moment, the next run finds either the
// previous set intact or completes the new one — never a new CA beside leaves of the old one, never a
// half-written agent — and no temp file or staging folder is left over. 2,000 agents make the commit
// long enough to be hit at many points.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "core/files.hpp"
#include "pki/certificate.hpp"
#include "pki/key.hpp"
#include "pki/verify.hpp"
#include "support.hpp"

extern char** environ;

namespace trellis::testing {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
constexpr int kAgents = 2000;

std::string spec_text() {
    return "cluster: {name: crash, token: crash-test}\n"
           "pki:\n  ca: {key: {algo: ecdsa, size: 256}}\n  leaf: {key: {algo: ecdsa, size: 256}}\n"
           "nodes:\n"
           "  - {name: backend-1, address: 127.0.0.211}\n"
           "  - {name: backend-2, address: 127.0.0.212}\n"
           "  - {name: backend-3, address: 127.0.0.213}\n"
           "clients:\n  - name: admin\n  - {name: agent, count: " +
           std::to_string(kAgents) + "}\n";
}

std::vector<std::string> provision_argv(const fs::path& spec, const fs::path& out, bool force_new_ca) {
    std::vector<std::string> argv{build_path("cluster-config/cluster-config").string(), "provision", spec.string(),
                                  "--out", out.string()};
    if (force_new_ca) argv.push_back("--force-new-ca");
    return argv;
}

// Starts provisioning and kills it with SIGKILL after `delay` (or lets it finish first).
void run_and_kill(const std::vector<std::string>& args, std::chrono::milliseconds delay) {
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    pid_t pid = 0;
    ASSERT_EQ(posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ), 0);
    posix_spawn_file_actions_destroy(&actions);
    std::this_thread::sleep_for(delay);
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
}

// Every certificate under `out` chains to the one CA in out/ca/ca.pem (old or new, but one), every key
// matches its certificate, every agent has its three files, and no staging or temp file is left.
void expect_consistent(const fs::path& out) {
    const auto ca = pki::Certificate::from_pem(slurp(out / "ca" / "ca.pem"), "ca.pem");
    int agents = 0, checked = 0;
    for (const auto& entry : fs::recursive_directory_iterator(out)) {
        const std::string name = entry.path().filename().string();
        if (name == ".cluster-config.json") continue;  // provisioning's record of what it wrote (plan.hpp)
        ASSERT_FALSE(name.starts_with(".")) << "left over: " << entry.path();
        if (entry.is_directory() && name.starts_with("agent-")) {
            ++agents;
            for (const auto* f : {"ca.pem", ".pem", "-key.pem"}) {
                const fs::path p = std::string(f) == "ca.pem" ? entry.path() / f : entry.path() / (name + f);
                ASSERT_TRUE(fs::exists(p)) << "half-written agent: " << p;
            }
            const auto cert = pki::Certificate::from_pem(slurp(entry.path() / (name + ".pem")), name);
            const auto key = pki::PrivateKey::from_pem(slurp(entry.path() / (name + "-key.pem")), name);
            ASSERT_TRUE(cert.matches(key)) << name;
            ASSERT_EQ(slurp(entry.path() / "ca.pem"), ca.pem()) << name << " carries another CA";
            ASSERT_TRUE(pki::verify_with_openssl({cert, {}, {ca}, pki::Purpose::Any, std::nullopt, std::nullopt}).ok)
                << name << " is not signed by ca/ca.pem";
            ++checked;
        }
    }
    EXPECT_EQ(agents, kAgents);
    EXPECT_EQ(checked, kAgents);
}

TEST(ProvisionCrash, KillNineAtManyPointsLeavesOldOrNew) {
    TempDir dir;
    const fs::path spec = dir / "spec.yml", out = dir / "out";
    spit(spec, spec_text());
    // The first, complete run: the "old" set, and how long one run of this size takes here.
    const auto started = Clock::now();
    const auto first = run(provision_argv(spec, out, false), {}, {}, 300);
    ASSERT_EQ(first.exit_code, 0) << first.err;
    const auto full = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
    expect_consistent(out);

    // Replace the CA (and so all 2,000 leaves) again and again, killed at points spread over a whole run.
    constexpr int kPoints = 8;
    int interrupted_notes = 0;
    for (int i = 0; i < kPoints; ++i) {
        const auto delay = full * (i + 1) / kPoints;
        run_and_kill(provision_argv(spec, out, true), delay);
        // What the next run does first, called directly so the state can be checked in between.
        interrupted_notes += static_cast<int>(recover_interrupted_commit(out).size());
        SCOPED_TRACE("killed after " + std::to_string(delay.count()) + " ms of a " + std::to_string(full.count()) +
                     " ms run");
        expect_consistent(out);
    }
    // How many kills landed inside a commit (timing decides; the checks above hold either way).
    std::printf("kills that interrupted a commit and were repaired: %d of %d\n", interrupted_notes, kPoints);

    const auto last = run(provision_argv(spec, out, false), {}, {}, 300);
    ASSERT_EQ(last.exit_code, 0) << last.err;
    expect_consistent(out);
}

}  // namespace
}  // namespace trellis::testing
