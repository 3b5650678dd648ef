#include "store/etcd_process.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <mutex>

#include "core/error.hpp"
#include "support.hpp"

namespace trellis::store {
namespace {

using namespace std::chrono_literals;

TEST(FindEtcdBinary, ExplicitThenBesideUsThenPath) {
    testing::TempDir dir;
    EXPECT_EQ(find_etcd_binary("", dir.path() / "trellis-backend"), "/usr/bin/etcd");
    testing::spit(dir / "etcd", "#!/bin/sh\n");
    std::filesystem::permissions(dir / "etcd", std::filesystem::perms::owner_all);
    EXPECT_EQ(find_etcd_binary("", dir.path() / "trellis-backend"), dir / "etcd");
    EXPECT_EQ(find_etcd_binary("/usr/bin/etcd", dir.path() / "trellis-backend"), "/usr/bin/etcd");
    try {
        find_etcd_binary((dir / "nope").string(), {});
        ADD_FAILURE();
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), Code::StoreProcessFailed);
        EXPECT_NE(std::string(e.what()).find("--etcd-binary"), std::string::npos);
    }
}

TEST(EtcdProcess, PrefixesEveryLineAndKeepsTheLastOnesWhenItDies) {
    std::mutex m;
    std::vector<std::string> shown;
    ProcessOptions options;
    options.binary = "/bin/sh";
    options.arguments = {"-c", "for i in 1 2 3 4 5; do echo line $i; done; echo oops >&2; exit 3"};
    options.keep_lines = 3;
    options.on_line = [&](std::string_view line) {
        std::lock_guard lock(m);
        shown.emplace_back(line);
    };
    EtcdProcess p(options);
    p.start();
    try {
        p.wait_ready([] { return false; }, 5s, 20ms);
        ADD_FAILURE() << "wait_ready returned for a process that exits";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), Code::StoreProcessFailed);
        EXPECT_NE(std::string(e.what()).find("exited with status 3"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("oops"), std::string::npos) << e.what();
    }
    std::lock_guard lock(m);
    ASSERT_EQ(shown.size(), 6u);
    EXPECT_EQ(shown[0], "[etcd] line 1");
    EXPECT_EQ(shown[5], "[etcd] oops");
    EXPECT_EQ(p.last_lines(), (std::vector<std::string>{"line 4", "line 5", "oops"}));
}

TEST(EtcdProcess, StopEscalatesToSigkillAfterTheGracePeriod) {
    ProcessOptions options;
    options.binary = "/bin/sh";
    options.arguments = {"-c", "trap '' TERM; echo ready; while :; do sleep 1; done"};
    options.on_line = [](std::string_view) {};
    EtcdProcess p(options);
    p.start();
    p.wait_ready([&] { return !p.last_lines().empty(); }, 5s, 20ms);
    const auto start = std::chrono::steady_clock::now();
    const int status = p.stop(300ms);
    EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
    ASSERT_TRUE(WIFSIGNALED(status));
    EXPECT_EQ(WTERMSIG(status), SIGKILL);
    EXPECT_FALSE(p.running());
}

TEST(EtcdProcess, ReadyTimeoutIsAnErrorWithTheLastLines) {
    ProcessOptions options;
    options.binary = "/bin/sh";
    options.arguments = {"-c", "echo waiting for peers; sleep 30"};
    options.on_line = [](std::string_view) {};
    EtcdProcess p(options);
    p.start();
    try {
        p.wait_ready([] { return false; }, 300ms, 20ms);
        ADD_FAILURE();
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("did not become ready"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("waiting for peers"), std::string::npos) << e.what();
    }
    p.stop(1s);
}

}  // namespace
}  // namespace trellis::store
