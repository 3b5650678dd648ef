// Kept-alive connections (store::ConnectionPool) against a real mTLS etcd on 127.0.0.251 (this test's own
// host): a restart of the member leaves every kept connection dead, and the next check (a member's, and
// the whole cluster's) must dial again rather than report a healthy member unhealthy.
#include <gtest/gtest.h>

#include "store/connection_pool.hpp"
#include "store/health.hpp"
#include "support.hpp"
#include "test_etcd.hpp"
#include "test_pki.hpp"

namespace trellis::store {
namespace {

using namespace std::chrono_literals;

TEST(KeptConnections, ReDialAMemberThatRestartedAndUseReplacedTlsFilesAtOnce) {
    testing::TempDir dir;
    const auto ca = testing::make_test_ca(dir.path(), "ca");
    testing::TestEtcdSpec s;
    s.ip = "127.0.0.251";
    s.tls = testing::issue_test_cert(ca, dir.path(), "s1", {"127.0.0.251", "127.0.0.1"}, "serverAuth,clientAuth");
    s.ca = ca;
    testing::TestEtcd etcd(dir.path() / "data", s);
    etcd.start();
    const auto pair = testing::issue_test_cert(ca, dir.path(), "client", {}, "clientAuth");
    const TlsFiles tls{pair.cert.string(), pair.key.string(), ca.cert.string()};
    etcd.wait_ready(tls);

    ClientOptions options{{etcd.client_url()}, tls, 1000ms, 3000ms};
    options.connections = std::make_shared<ConnectionPool>();
    const Member self{1, "s1", {}, {etcd.client_url()}, false};
    const MemberHealth first = check_member(self, options, 2000ms);
    ASSERT_TRUE(first.healthy) << first.error;
    EXPECT_EQ(options.connections->idle(etcd.client_url()), 1u) << "the read, on a connection kept for the next";

    ASSERT_TRUE(check_cluster_health(options, 2000ms).healthy()) << "the member list, alarms and read kept too";

    etcd.process().stop();
    etcd.start();
    etcd.wait_ready(tls);  // on connections of its own: every one in the pool is dead now
    const ClusterHealth health = check_cluster_health(options, 2000ms);
    EXPECT_TRUE(health.healthy()) << (health.members.empty() ? health.error : health.members[0].error);
    const MemberHealth again = check_member(self, options, 2000ms);
    EXPECT_TRUE(again.healthy) << again.error;
    EXPECT_EQ(EtcdClient(options).member_list().members.size(), 1u) << "the member list through the pool too";
    EXPECT_GE(options.connections->idle(etcd.client_url()), 1u);

    // New files renamed into place (a renewal) are used at once: the kept connections, which still work,
    // are closed. A pair from a CA etcd does not trust shows it: refused, where a kept connection would pass.
    const auto other_ca = testing::make_test_ca(dir.path(), "other-ca");
    const auto stranger = testing::issue_test_cert(other_ca, dir.path(), "stranger", {}, "clientAuth");
    std::filesystem::rename(stranger.cert, pair.cert);
    std::filesystem::rename(stranger.key, pair.key);
    const MemberHealth refused = check_member(self, options, 2000ms);
    EXPECT_FALSE(refused.healthy);
    EXPECT_NE(refused.error.find("refused our client certificate"), std::string::npos) << refused.error;
    EXPECT_EQ(options.connections->idle(etcd.client_url()), 0u);
}

}  // namespace
}  // namespace trellis::store
