// The proof that provisioning works: examples/loopback-3.yml provisioned by the
// real CLI, three real etcd 3.4 members started with exactly the flags of their
// rendered backend.yml, all healthy over mTLS; clients without a cert, with a cert
// of another CA, or with a client cert on the peer port are refused.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>

#include "cluster/backend_config.hpp"
#include "support.hpp"
#include "test_etcd.hpp"

namespace trellis::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

const std::vector<std::string> kNodes = {"backend-1", "backend-2", "backend-3"};
const std::vector<std::string> kEndpoints = {"https://127.0.0.11:2379", "https://127.0.0.12:2379",
                                             "https://127.0.0.13:2379"};

struct Identity {
    fs::path ca, cert, key;
};

RunResult etcdctl(const std::string& endpoint, const std::optional<Identity>& id,
                  const std::vector<std::string>& command, const fs::path& cacert) {
    std::vector<std::string> argv{"/usr/bin/etcdctl", "--endpoints=" + endpoint, "--dial-timeout=2s",
                                  "--command-timeout=3s", "--cacert=" + cacert.string()};
    if (id) {
        argv.push_back("--cert=" + id->cert.string());
        argv.push_back("--key=" + id->key.string());
    }
    argv.insert(argv.end(), command.begin(), command.end());
    return run(argv, {}, {}, 15);
}

fs::path provision(const fs::path& out) {
    const RunResult r = run({build_path("cluster-config/cluster-config").string(), "provision",
                             source_path("examples/loopback-3.yml").string(), "--out", out.string()},
                            {}, {}, 60);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return out;
}

TEST(EtcdCluster, LoopbackThreeNodesHealthyOverMutualTls) {
    LoopbackLock lock;
    TempDir tmp;
    const fs::path dir = provision(tmp / "cluster");
    ASSERT_FALSE(HasFailure());

    std::vector<std::unique_ptr<TestEtcd>> members;
    for (const auto& node : kNodes) {
        const fs::path yml = dir / node / "backend.yml";
        auto config = cluster::BackendConfig::from_yaml(slurp(yml), yml.string());
        // Only the state moves into the scratch directory; every other flag is the rendered file's.
        config.set(cluster::Key::StateDir, {(tmp / ("state-" + node)).string()}, cluster::Origin{"test", 0});
        const auto args = config.etcd_arguments();
        EXPECT_THAT(args, ::testing::Contains("--client-cert-auth=true"));
        EXPECT_THAT(args, ::testing::Contains("--peer-client-cert-auth=true"));
        members.push_back(std::make_unique<TestEtcd>(node, args));
        members.back()->start();
    }

    const Identity admin{dir / "clients/admin/ca.pem", dir / "clients/admin/admin.pem",
                         dir / "clients/admin/admin-key.pem"};
    // Ready by our own client (bounded), then healthy by etcdctl's word: a peer independent of our code.
    for (size_t i = 0; i < kNodes.size(); ++i) {
        EXPECT_EQ(members[i]->client_url(), kEndpoints[i]);
        ASSERT_NO_THROW(members[i]->wait_ready({admin.cert.string(), admin.key.string(), admin.ca.string()}))
            << kNodes[i] << ":\n"
            << members[i]->log_tail();
        const RunResult health = etcdctl(kEndpoints[i], admin, {"endpoint", "health"}, admin.ca);
        ASSERT_EQ(health.exit_code, 0) << kNodes[i] << ": " << health.err << "\n" << members[i]->log_tail();
    }

    // One cluster of three, as the spec says.
    const RunResult list = etcdctl(kEndpoints[0], admin, {"member", "list"}, admin.ca);
    ASSERT_EQ(list.exit_code, 0) << list.err;
    for (const auto& node : kNodes) EXPECT_THAT(list.out, HasSubstr(node));
    EXPECT_THAT(list.out, HasSubstr("https://127.0.0.13:2380"));
    const RunResult put = etcdctl(kEndpoints[1], admin, {"put", "trellis-test", "ok"}, admin.ca);
    EXPECT_EQ(put.exit_code, 0) << put.err;
    const RunResult get = etcdctl(kEndpoints[2], admin, {"get", "trellis-test", "--print-value-only"}, admin.ca);
    EXPECT_EQ(get.out, "ok\n") << get.err;

    // No client certificate: refused.
    const RunResult anonymous = etcdctl(kEndpoints[0], std::nullopt, {"endpoint", "health"}, admin.ca);
    EXPECT_NE(anonymous.exit_code, 0);
    EXPECT_THAT(anonymous.err, HasSubstr("unhealthy"));

    // A client certificate of another CA (another provisioning of the same spec): refused.
    TempDir other;
    const fs::path stranger = provision(other / "cluster");
    const Identity foreign{admin.ca, stranger / "clients/admin/admin.pem", stranger / "clients/admin/admin-key.pem"};
    const RunResult refused = etcdctl(kEndpoints[0], foreign, {"endpoint", "health"}, admin.ca);
    EXPECT_NE(refused.exit_code, 0);
    EXPECT_THAT(refused.err, HasSubstr("unhealthy"));

    // The peer port has a CA of its own: the admin client cert is refused there, a peer cert is not.
    const auto curl = [&](const fs::path& cert, const fs::path& key) {
        return run({"/usr/bin/curl", "-sS", "--http1.1", "--max-time", "5", "--cacert",
                    (dir / "backend-1/peer-ca.pem").string(), "--cert", cert.string(), "--key", key.string(),
                    "https://127.0.0.11:2380/version"},
                   {}, {}, 15);
    };
    const RunResult peer_ok = curl(dir / "backend-2/backend-2-peer.pem", dir / "backend-2/backend-2-peer-key.pem");
    EXPECT_EQ(peer_ok.exit_code, 0) << peer_ok.err;
    EXPECT_THAT(peer_ok.out, HasSubstr("etcdserver"));
    const RunResult peer_refused = curl(admin.cert, admin.key);
    EXPECT_NE(peer_refused.exit_code, 0) << peer_refused.out;
    // TLS 1.3 reports the refusal after the handshake: as an alert or as a dropped connection.
    EXPECT_THAT(peer_refused.out, ::testing::Not(HasSubstr("etcdserver")));

    // The rendered, provisioned cluster lints clean.
    const RunResult lint = run({build_path("cluster-config/cluster-config").string(), "lint", dir.string()});
    EXPECT_EQ(lint.exit_code, 0) << lint.out << lint.err;

    for (auto& m : members) m->process().stop();
    for (auto& m : members) EXPECT_FALSE(m->process().running());
}

}  // namespace
}  // namespace trellis::testing
