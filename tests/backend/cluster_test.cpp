// The issue's proofs on 127.0.0.11-13: examples/loopback-3.yml provisioned by cluster-config,
// three backends started from the files it wrote form a healthy cluster, etcdctl with the admin
// client certificate works on every node, a killed node is reported and rejoins with everything
// written meanwhile, the API refuses clients it should, and SIGTERM leaves no etcd behind.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <set>
#include <sstream>
#include <thread>

#include "backend_fixture.hpp"
#include "test_pki.hpp"

namespace trellis::testing {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

bool wait_healthy(const ProvisionedCluster& cluster, const std::string& node, std::size_t n,
                  std::chrono::seconds limit) {
    return ::trellis::testing::wait_healthy(*cluster.api(node), n, limit);
}

class ThreeBackends : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        lock_ = new LoopbackLock();
        dir_ = new TempDir();
        cluster_ = new ProvisionedCluster(source_path("examples/loopback-3.yml"), dir_->path());
        ASSERT_EQ(cluster_->nodes(), (std::vector<std::string>{"backend-1", "backend-2", "backend-3"}));
        start_ = Clock::now();
        for (std::size_t i = 0; i < 3; ++i) nodes_[i] = start(i).release();
    }
    static void TearDownTestSuite() {
        for (auto*& n : nodes_) {
            delete n;
            n = nullptr;
        }
        delete cluster_;
        delete dir_;
        delete lock_;
    }
    void TearDown() override {
        if (HasFailure())
            for (std::size_t i = 0; i < 3; ++i)
                if (nodes_[i]) std::cerr << "---- " << name(i) << " log:\n" << nodes_[i]->log();
    }
    static const std::string& name(std::size_t i) { return cluster_->nodes().at(i); }
    static std::unique_ptr<ChildProcess> start(std::size_t i) {
        return cluster_->start(name(i), {"--log-level", "info", "--etcd-ready-timeout", "60", "--stop-timeout", "5"});
    }
    static inline LoopbackLock* lock_ = nullptr;
    static inline TempDir* dir_ = nullptr;
    static inline ProvisionedCluster* cluster_ = nullptr;
    static inline ChildProcess* nodes_[3] = {};
    static inline Clock::time_point start_;
};

TEST_F(ThreeBackends, HealthReportsThreeHealthyMembersWithin30Seconds) {
    ASSERT_TRUE(wait_healthy(*cluster_, name(0), 3, 30s)) << "not healthy within 30 s";
    std::cerr << "cluster healthy "
              << std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start_).count()
              << " ms after start\n";
    auto client = cluster_->api(name(1));
    const auto [status, body] = get_health(*client);
    EXPECT_EQ(status, 200);
    std::set<std::string> names;
    for (const auto& m : body["ClusterHealth"]) {
        names.insert(m["Name"].get<std::string>());
        EXPECT_EQ(m["Err"], "");
        EXPECT_TRUE(m["MemberID"].is_number_unsigned());
        char hex[17];  // Sensu's MemberIDHex is Go's %x
        std::snprintf(hex, sizeof hex, "%llx", static_cast<unsigned long long>(m["MemberID"].get<std::uint64_t>()));
        EXPECT_EQ(m["MemberIDHex"], hex);
    }
    EXPECT_EQ(names, (std::set<std::string>{"backend-1", "backend-2", "backend-3"}));
    EXPECT_TRUE(body["Alarms"].is_null()) << "Sensu's \"Alarms\" is null when there is none";
    EXPECT_NE(body["Header"]["cluster_id"].get<std::uint64_t>(), 0u);
}

TEST_F(ThreeBackends, EtcdctlWithTheClientCertPutsAndReadsBackOnEveryNode) {
    ASSERT_TRUE(wait_healthy(*cluster_, name(0), 3, 30s));
    for (std::size_t i = 0; i < 3; ++i) {
        const std::string key = "/trellis/test/node-" + std::to_string(i);
        const auto put = cluster_->etcdctl(name(i), {"put", key, "value-" + std::to_string(i)});
        ASSERT_EQ(put.exit_code, 0) << put.err;
        const auto get = cluster_->etcdctl(name(i), {"get", key, "--print-value-only"});
        ASSERT_EQ(get.exit_code, 0) << get.err;
        EXPECT_EQ(get.out, "value-" + std::to_string(i) + "\n");
    }
}

// The TLS matrix: only /readyz answers without a client certificate (load balancers probe it);
// every other path needs one, and a certificate of another CA or without clientAuth never
// completes the handshake.
TEST_F(ThreeBackends, ApiRefusesNoCertAnotherCaAndAServerOnlyCert) {
    ASSERT_TRUE(wait_healthy(*cluster_, name(0), 3, 30s));
    TempDir dir;
    const auto other_ca = make_test_ca(dir.path(), "other-ca");
    const auto stranger = issue_test_cert(other_ca, dir.path(), "stranger", {}, "clientAuth");
    // Signed by the cluster's own client CA, but without clientAuth.
    const TestCa cluster_ca{cluster_->ca_cert(), cluster_->ca_key()};
    const auto server_only = issue_test_cert(cluster_ca, dir.path(), "server-only", {"127.0.0.11"}, "serverAuth");
    const auto attempt = [&](const std::string& cert, const std::string& key, const char* path) {
        httplib::Client c(cluster_->api_url(name(0)), cert, key);
        c.set_ca_cert_path(cluster_->admin_ca().string());
        c.enable_server_certificate_verification(true);
        c.set_connection_timeout(2, 0);
        c.set_read_timeout(5, 0);
        auto res = c.Get(path);
        return res ? res->status : 0;
    };
    EXPECT_EQ(cluster_->api_url(name(0)), "https://127.0.0.11:8080");
    for (const char* path : {"/api/core/v2/cluster/members", "/health", "/api/trellis/v1/snapshot"})
        EXPECT_EQ(attempt("", "", path), 401) << "no client certificate was let through on " << path;
    EXPECT_EQ(attempt("", "", "/readyz"), 200) << "a load balancer's probe needs no certificate";
    for (const char* path : {"/api/core/v2/cluster/members", "/readyz"}) {
        EXPECT_EQ(attempt(stranger.cert.string(), stranger.key.string(), path), 0)
            << "another CA's cert completed a handshake for " << path;
        EXPECT_EQ(attempt(server_only.cert.string(), server_only.key.string(), path), 0)
            << "a server-only cert completed a handshake for " << path;
    }
    EXPECT_EQ(attempt(cluster_->admin_cert().string(), cluster_->admin_key().string(), "/api/core/v2/cluster/members"),
              200);
}

// Debian's sslscan, presenting a certificate the port accepts: the suites it got through with, and
// the protocols it found enabled ("TLSv1.2"), from lines such as
// "Accepted  TLSv1.2  128 bits  ECDHE-ECDSA-AES128-GCM-SHA256 ..." and "TLSv1.2   enabled".
struct Scan {
    std::vector<std::string> accepted, enabled;
    std::string output;
};
Scan sslscan(const std::string& host_port, const fs::path& cert, const fs::path& key) {
    const auto r =
        run({"sslscan", "--no-colour", "--no-fallback", "--no-renegotiation", "--no-compression", "--no-heartbleed",
             "--no-check-certificate", "--certs=" + cert.string(), "--pk=" + key.string(), host_port},
            {}, {}, 60);
    Scan scan{{}, {}, r.out + r.err};
    std::istringstream lines(r.out);
    for (std::string line; std::getline(lines, line);) {
        std::istringstream words(line);
        std::string first, second, bits, unit, suite;
        words >> first >> second;
        if ((first == "Accepted" || first == "Preferred") && words >> bits >> unit >> suite)
            scan.accepted.push_back(second + " " + suite);
        if (first.starts_with("TLSv") && second == "enabled") scan.enabled.push_back(first);
        if (first.starts_with("SSLv") && second == "enabled") scan.enabled.push_back(first);
    }
    return scan;
}

// One TLS policy on all three ports: ECDHE with AES-GCM or ChaCha20-Poly1305 only, TLS 1.2 and 1.3 only.
TEST_F(ThreeBackends, EveryPortOffersOnlyAeadSuitesWithForwardSecrecyAndNothingBelowTls12) {
    ASSERT_TRUE(wait_healthy(*cluster_, name(0), 3, 30s));
    const fs::path node = cluster_->out() / name(0);
    const struct {
        std::string port;
        fs::path cert, key;
    } ports[] = {{"127.0.0.11:2379", cluster_->admin_cert(), cluster_->admin_key()},
                 {"127.0.0.11:2380", node / (name(0) + "-peer.pem"), node / (name(0) + "-peer-key.pem")},
                 {"127.0.0.11:8080", cluster_->admin_cert(), cluster_->admin_key()}};
    for (const auto& p : ports) {
        const Scan scan = sslscan(p.port, p.cert, p.key);
        EXPECT_EQ(scan.enabled, (std::vector<std::string>{"TLSv1.2", "TLSv1.3"})) << p.port << "\n" << scan.output;
        ASSERT_FALSE(scan.accepted.empty()) << p.port << ": sslscan completed no handshake\n" << scan.output;
        bool gcm_on_12 = false;
        for (const auto& a : scan.accepted) {
            const bool aead = a.find("GCM") != std::string::npos || a.find("CHACHA20") != std::string::npos;
            const bool forward_secret = a.starts_with("TLSv1.3") || a.find("ECDHE-") != std::string::npos;
            EXPECT_TRUE(aead && forward_secret) << p.port << " accepted " << a;
            gcm_on_12 = gcm_on_12 || a.starts_with("TLSv1.2");
        }
        EXPECT_TRUE(gcm_on_12) << p.port << ": no TLS 1.2 suite at all\n" << scan.output;
    }
}

TEST_F(ThreeBackends, MembersApiListsAndMapsEtcdRefusalsToHttpCodes) {
    ASSERT_TRUE(wait_healthy(*cluster_, name(0), 3, 30s));
    auto client = cluster_->api(name(0));
    auto list = client->Get("/api/core/v2/cluster/members");
    ASSERT_TRUE(list);
    ASSERT_EQ(list->status, 200);
    const auto body = nlohmann::json::parse(list->body);
    ASSERT_EQ(body["members"].size(), 3u) << body;
    char some_id[17];
    std::snprintf(some_id, sizeof some_id, "%llx",
                  static_cast<unsigned long long>(body["members"][0]["ID"].get<std::uint64_t>()));
    EXPECT_EQ(body["members"][0]["peerURLs"].size(), 1u);

    auto missing = client->Delete("/api/core/v2/cluster/members/00000000000004d2");
    ASSERT_TRUE(missing);
    EXPECT_EQ(missing->status, 404);
    EXPECT_NE(missing->body.find("member not found"), std::string::npos) << missing->body;
    auto bad_id = client->Delete("/api/core/v2/cluster/members/not-hex");
    ASSERT_TRUE(bad_id);
    EXPECT_EQ(bad_id->status, 400);
    auto bad_url = client->Post("/api/core/v2/cluster/members?peer-addrs=127.0.0.14:2380", "", "text/plain");
    ASSERT_TRUE(bad_url);
    EXPECT_EQ(bad_url->status, 400);
    EXPECT_NE(bad_url->body.find("peer-addrs"), std::string::npos) << bad_url->body;
    const std::string taken = body["members"][0]["peerURLs"][0];
    auto dup = client->Post("/api/core/v2/cluster/members?peer-addrs=" + taken, "", "text/plain");
    ASSERT_TRUE(dup);
    EXPECT_EQ(dup->status, 409) << dup->body;
    auto same =
        client->Put("/api/core/v2/cluster/members/" + std::string(some_id) + "?peer-addrs=" + taken, "", "text/plain");
    ASSERT_TRUE(same);
    EXPECT_EQ(same->status, 200) << same->body;
    auto bad_timeout = client->Get("/health?timeout=99");
    ASSERT_TRUE(bad_timeout);
    EXPECT_EQ(bad_timeout->status, 400);
}

TEST_F(ThreeBackends, KilledNodeIsReportedOthersWriteAndItRejoinsWithEverything) {
    ASSERT_TRUE(wait_healthy(*cluster_, name(0), 3, 30s));
    const std::string dir = cluster_->state_dir("backend-3").string();
    ASSERT_EQ(etcd_pids_mentioning(dir).size(), 1u);
    nodes_[2]->signal(SIGKILL);
    ASSERT_EQ(nodes_[2]->wait_exit(5), 128 + SIGKILL);
    // PR_SET_PDEATHSIG: the killed backend's etcd goes with it.
    for (int i = 0; i < 50 && !etcd_pids_mentioning(dir).empty(); ++i) std::this_thread::sleep_for(100ms);
    EXPECT_TRUE(etcd_pids_mentioning(dir).empty()) << "etcd outlived its killed backend";

    // Every /health answers within its timeout; right after the kill the survivors may be electing a new
    // leader and truthfully report "leader changed", so poll (at most 10 s) for the settled picture.
    auto client = cluster_->api(name(0));
    int status = 0;
    nlohmann::json body;
    const auto settle_by = Clock::now() + 10s;
    for (bool settled = false; !settled && Clock::now() < settle_by;) {
        const auto t0 = Clock::now();
        std::tie(status, body) = get_health(*client, 3);
        EXPECT_LT(Clock::now() - t0, 3500ms) << "/health must answer within its timeout";
        settled = body["ClusterHealth"].size() == 3;
        for (const auto& m : body["ClusterHealth"]) settled = settled && m["Healthy"] == (m["Name"] != "backend-3");
        if (!settled) std::this_thread::sleep_for(200ms);
    }
    EXPECT_EQ(status, 503);
    ASSERT_EQ(body["ClusterHealth"].size(), 3u) << body.dump();
    for (const auto& m : body["ClusterHealth"]) {
        if (m["Name"] == "backend-3") {
            EXPECT_FALSE(m["Healthy"].get<bool>());
            EXPECT_EQ(m["Err"], "dial tcp 127.0.0.13:2379: connect: connection refused");
        } else {
            EXPECT_TRUE(m["Healthy"].get<bool>()) << m.dump();
        }
    }
    // If the killed node led, the other two elect a new leader first; a put in that window fails
    // with etcd's transient "leader changed" / "no leader". Only those may be retried, for 5 s.
    for (std::size_t i = 0; i < 2; ++i) {
        RunResult put;
        for (int attempt = 0; attempt < 50; ++attempt) {
            put = cluster_->etcdctl(name(i), {"put", "/trellis/test/while-down-" + std::to_string(i), "yes"});
            const bool electing =
                put.err.find("leader changed") != std::string::npos || put.err.find("no leader") != std::string::npos;
            if (put.exit_code == 0 || !electing) break;
            std::this_thread::sleep_for(100ms);
        }
        EXPECT_EQ(put.exit_code, 0) << put.err;
    }

    delete nodes_[2];
    nodes_[2] = start(2).release();
    ASSERT_TRUE(wait_healthy(*cluster_, name(2), 3, 30s)) << "the restarted node did not rejoin";
    for (std::size_t i = 0; i < 2; ++i) {
        const auto get =
            cluster_->etcdctl(name(2), {"get", "/trellis/test/while-down-" + std::to_string(i), "--print-value-only"});
        EXPECT_EQ(get.out, "yes\n") << get.err;
    }
}

TEST_F(ThreeBackends, SigtermStopsEveryBackendAndLeavesNoEtcd) {
    for (auto* n : nodes_) n->signal(SIGTERM);
    for (auto* n : nodes_) EXPECT_EQ(n->wait_exit(20), 0) << n->log();
    EXPECT_TRUE(etcd_pids_mentioning(cluster_->dir().string()).empty());
}

}  // namespace
}  // namespace trellis::testing
