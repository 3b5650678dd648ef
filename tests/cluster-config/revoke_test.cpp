// Issue 10 item 4's proof of revocation, through the built tools, on this test's own loopback addresses
// (127.0.0.191-193, standard ports): a live 3-node cluster provisioned by cluster-config, a writer with a
// certificate that stays valid through all three client endpoints the whole time, then `cluster-config
// revoke` of an admin client, an agent, and a node's peer and client-port certificates. With no restart, the next
// connection with each revoked certificate is refused on etcd's client port (2379), its peer port (2380)
// and the API (8080); the re-issued ones, and a certificate nobody revoked, keep working.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "backend_fixture.hpp"
#include "core/files.hpp"
#include "pki/certificate.hpp"
#include "shared_cluster.hpp"
#include "support.hpp"
#include "writer.hpp"

namespace trellis::testing {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr const char* kPrefix = "/revoke/";
constexpr const char* kSpec = R"(cluster:
  name: revoke-test
  token: trellis-revoke-test
security: full
ca: separate
store: embedded
nodes:
  - name: v1
    address: 127.0.0.191
  - name: v2
    address: 127.0.0.192
  - name: v3
    address: 127.0.0.193
clients:
  - name: admin
  - name: ops
  - {name: agent, count: 2}
)";

struct Creds {
    fs::path cert, key, ca;
};

// One request on a new connection with `c`: the HTTP status, or 0 when the connection was refused or
// closed before an answer (`why` says how). A status of any kind means the certificate was accepted.
int probe(const std::string& url, const Creds& c, const std::string& path, std::string* why = nullptr) {
    httplib::Client client(url, c.cert.string(), c.key.string());
    client.set_ca_cert_path(c.ca.string());
    client.enable_server_certificate_verification(true);
    client.set_connection_timeout(3, 0);
    client.set_read_timeout(5, 0);
    client.set_keep_alive(false);
    const auto res = client.Get(path);
    if (!res) {
        if (why) *why = httplib::to_string(res.error());
        return 0;
    }
    return res->status;
}

class Revoke : public SharedCluster {
  protected:
    static void SetUpTestSuite() { start_cluster(kSpec); }
    static void TearDownTestSuite() { stop_cluster(); }
    // A client's files as provisioned, or copied aside into `into` (the leaked copy a thief would keep).
    static Creds client(const std::string& name, const fs::path& into = {}) {
        const fs::path from = cluster_->out() / "clients" / name;
        Creds c{from / (name + ".pem"), from / (name + "-key.pem"), from / "ca.pem"};
        return into.empty() ? c : keep_copy(c, into / name);
    }
    static Creds keep_copy(const Creds& c, const fs::path& to) {
        fs::create_directories(to);
        Creds out{to / c.cert.filename(), to / c.key.filename(), to / c.ca.filename()};
        fs::copy_file(c.cert, out.cert);
        fs::copy_file(c.key, out.key);
        fs::copy_file(c.ca, out.ca);
        return out;
    }
};

const std::string kClient = "https://127.0.0.191:2379", kPeer = "https://127.0.0.192:2380",
                  kApi = "https://127.0.0.193:8080";

TEST_F(Revoke, RevokedAdminAgentAndPeerCertificatesAreRefusedOnEveryPortWithNoRestart) {
    const fs::path leaked = dir_->path() / "leaked";
    const Creds admin = client("admin", leaked), agent = client("agent-1", leaked), ops = client("ops");
    const fs::path v1 = cluster_->out() / "v1";
    const Creds peer = keep_copy({v1 / "v1-peer.pem", v1 / "v1-peer-key.pem", v1 / "peer-ca.pem"}, leaked / "v1");
    const Creds node = keep_copy({v1 / "v1.pem", v1 / "v1-key.pem", v1 / "ca.pem"}, leaked / "v1-client-port");
    // Before: every one of them is accepted on its ports (any HTTP status; 0 would be a refused connection).
    for (const auto* c : {&admin, &agent, &ops, &node}) {
        EXPECT_GT(probe(kClient, *c, "/version"), 0) << c->cert;
        EXPECT_GT(probe(kApi, *c, "/health"), 0) << c->cert;
    }
    EXPECT_GT(probe(kPeer, peer, "/version"), 0) << "the peer certificate on another member's peer port";
    const auto pids_before = pids();
    ASSERT_EQ(pids_before.size(), 6u) << "3 backends and their 3 etcd";

    std::vector<std::string> endpoints;
    for (const auto& n : cluster_->nodes()) endpoints.push_back(cluster_->client_url(n));
    Writer writer(endpoints, {ops.cert.string(), ops.key.string(), ops.ca.string()}, kPrefix, Writer::Mode::Failover);
    writer.start();
    ASSERT_TRUE(writer.wait_for_more(30, 30)) << "the writer got nothing acknowledged";

    const RunResult check =
        tool({"revoke", "spec.yml", "--out", "out", "admin", "agent-1", "v1-peer", "v1", "--check"});
    EXPECT_EQ(check.exit_code, 5) << check.out << check.err;
    EXPECT_NE(check.out.find("would update out/v2/peer-ca-crl.pem (revokes v1-peer (serial " + serial_of(peer.cert)),
              std::string::npos)
        << check.out;
    const auto revoke_start = Clock::now();
    const RunResult revoke = tool({"revoke", "spec.yml", "--out", "out", "admin", "agent-1", "v1-peer", "v1"});
    ASSERT_EQ(revoke.exit_code, 0) << revoke.out << revoke.err;
    EXPECT_NE(revoke.out.find("4 certificates issued"), std::string::npos) << revoke.out;

    // The next connection with each leaked certificate is refused: polled, bounded (the files are in place
    // when revoke returns; nothing is restarted or signalled).
    struct Case {
        std::string what, url, path;
        const Creds* creds;
    };
    const std::vector<Case> cases{
        {"admin on 2379", kClient, "/version", &admin},      {"agent-1 on 2379", kClient, "/version", &agent},
        {"admin on 8080", kApi, "/health", &admin},          {"agent-1 on 8080", kApi, "/health", &agent},
        {"v1-peer on 2380", kPeer, "/version", &peer},       {"v1 (client port) on 2379", kClient, "/version", &node},
        {"v1 (client port) on 8080", kApi, "/health", &node}};
    for (const auto& c : cases) {
        std::string why;
        int status = -1;
        for (int i = 0; i < 50 && (status = probe(c.url, *c.creds, c.path, &why)) != 0; ++i)
            std::this_thread::sleep_for(100ms);
        EXPECT_EQ(status, 0) << c.what << " is still accepted";
        std::cout << "revoke: " << c.what << " refused (" << why << ") "
                  << std::chrono::duration<double>(Clock::now() - revoke_start).count() << " s after revoke began\n";
    }
    // The rightful owners' new certificates and a certificate nobody revoked still work everywhere.
    for (const auto* c : {&ops}) {
        EXPECT_EQ(probe(kClient, *c, "/version"), 200);
        EXPECT_EQ(probe(kApi, *c, "/health"), 200);
    }
    EXPECT_EQ(probe(kClient, client("admin"), "/version"), 200);
    EXPECT_EQ(probe(kApi, client("admin"), "/health"), 200);
    EXPECT_GT(probe(kClient, client("agent-1"), "/version"), 0);
    EXPECT_GT(probe(kApi, client("agent-2"), "/health"), 0) << "the agent nobody revoked";
    EXPECT_GT(probe(kPeer, {v1 / "v1-peer.pem", v1 / "v1-peer-key.pem", v1 / "peer-ca.pem"}, "/version"), 0)
        << "v1's re-issued peer certificate";
    EXPECT_NE(serial_of(v1 / "v1-peer.pem"), serial_of(peer.cert));
    EXPECT_EQ(probe(kClient, {v1 / "v1.pem", v1 / "v1-key.pem", v1 / "ca.pem"}, "/version"), 200)
        << "v1's re-issued client-port certificate";

    std::this_thread::sleep_for(2s);
    ASSERT_TRUE(writer.wait_for_more(30, 30)) << "the writer stalled after revocation";
    writer.stop();
    const auto acked = writer.acknowledged();
    std::cout << "revoke: " << writer.requests() << " requests, " << writer.failures() << " failed, " << acked.size()
              << " acknowledged\n";
    EXPECT_EQ(writer.failures(), 0u);
    for (const auto& m : writer.failure_messages()) ADD_FAILURE() << "failed request: " << m;
    for (const auto& n : cluster_->nodes()) EXPECT_EQ(missing_keys(*cluster_, n, kPrefix, acked), 0u) << n;
    EXPECT_TRUE(wait_healthy(*cluster_->api("v2"), 3, 20s)) << "v1 rejoins its peers with its new certificate";
    EXPECT_EQ(pids(), pids_before) << "no backend and no etcd may restart";

    const RunResult again = tool({"revoke", "spec.yml", "--out", "out", "v9"});
    EXPECT_EQ(again.exit_code, 1);
    EXPECT_NE(again.err.find("revoke v9: no leaf certificate of that name in the spec"), std::string::npos)
        << again.err;
    EXPECT_NE(again.err.find("(code 1106)"), std::string::npos) << again.err;
}

}  // namespace
}  // namespace trellis::testing
