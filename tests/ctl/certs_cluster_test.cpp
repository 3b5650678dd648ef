// `trellisctl cluster certs` and /health's ExpiringCertificates against a real 3-node cluster of this
// test's own (127.0.0.152-154, standard ports; safe in parallel with the other suites), provisioned by
// cluster-config with leaves shorter than the backend's 30-day renewal window.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <thread>

#include <nlohmann/json.hpp>

#include "backend_fixture.hpp"
#include "core/files.hpp"
#include "pki/certificate.hpp"
#include "support.hpp"

namespace trellis::testing {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

constexpr const char* kSpec = R"(cluster:
  name: certs-test
  token: trellis-certs-test
security: full
ca: separate
store: embedded
pki:
  leaf:
    validity: 700h
  renew-before: 100h
nodes:
  - name: c1
    address: 127.0.0.152
  - name: c2
    address: 127.0.0.153
  - name: c3
    address: 127.0.0.154
clients:
  - name: admin
)";

std::string serial_of(const fs::path& cert) {
    return pki::Certificate::from_pem(read_file(cert), cert.string()).serial_decimal();
}

class CertsCluster : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        dir_ = new TempDir;
        spit(*dir_ / "spec.yml", kSpec);
        cluster_ = new ProvisionedCluster(*dir_ / "spec.yml", dir_->path());
        for (const auto& n : cluster_->nodes()) nodes_.push_back(cluster_->start(n).release());
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(90);
        while (std::chrono::steady_clock::now() < deadline) {
            if (auto api = cluster_->api("c1"); get_health(*api).first == 200) return;
            std::this_thread::sleep_for(std::chrono::milliseconds(300));
        }
        FAIL() << "the cluster did not become healthy: " << nodes_[0]->log_tail();
    }
    static void TearDownTestSuite() {
        for (auto* n : nodes_) delete n;
        nodes_.clear();
        delete cluster_;
        delete dir_;
    }

    static RunResult ctl(const std::vector<std::string>& args) { return cluster_->trellisctl(args); }

    // The serial each port should serve: what the node's files on disk hold.
    static std::string on_disk(const std::string& node, const std::string& port) {
        return serial_of(cluster_->out() / node /
                         (node + (port == "peer"  ? "-peer.pem"
                                  : port == "api" ? "-api.pem"
                                                  : ".pem")));
    }

    static TempDir* dir_;
    static ProvisionedCluster* cluster_;
    static std::vector<ChildProcess*> nodes_;
};
TempDir* CertsCluster::dir_ = nullptr;
ProvisionedCluster* CertsCluster::cluster_ = nullptr;
std::vector<ChildProcess*> CertsCluster::nodes_;

TEST_F(CertsCluster, EveryPortOfEveryNodeServesWhatIsOnItsDisk) {
    const auto r = ctl({"cluster", "certs", "--format", "json"});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    const auto doc = json::parse(r.out);
    ASSERT_EQ(doc["Certificates"].size(), 9u) << r.out;
    std::set<std::string> seen;
    for (const auto& c : doc["Certificates"]) {
        const std::string node = c["Node"], port = c["Port"];
        seen.insert(node + " " + port);
        EXPECT_FALSE(c.contains("Error")) << c.dump();
        EXPECT_EQ(c["Serial"], on_disk(node, port)) << node << " " << port;
        EXPECT_EQ(c["Expired"], false);
        EXPECT_NE(c["Subject"].get<std::string>().find("CN=" + node), std::string::npos) << c.dump();
    }
    EXPECT_EQ(seen.size(), 9u);
    // The peer CA is not the client CA: the issuers differ, and the peer port was read although it refused us.
    EXPECT_NE(doc["Certificates"][0]["Issuer"], doc["Certificates"][1]["Issuer"]);

    const auto table = ctl({"cluster", "certs"});
    EXPECT_EQ(table.exit_code, 0) << table.err;
    EXPECT_NE(table.out.find(on_disk("c2", "peer")), std::string::npos) << table.out;
}

TEST_F(CertsCluster, HealthReportsTheNodesCertificatesInsideTheRenewalWindow) {
    auto api = cluster_->api("c1");
    const auto [status, body] = get_health(*api);
    ASSERT_EQ(status, 200) << body.dump();
    ASSERT_TRUE(body.contains("ClusterHealth")) << "Sensu's shape is kept";
    ASSERT_TRUE(body["ExpiringCertificates"].is_array()) << body.dump();
    std::set<std::string> keys;
    for (const auto& e : body["ExpiringCertificates"]) {
        keys.insert(e["Key"].get<std::string>());
        EXPECT_EQ(e["Expired"], false);
    }
    // 700h leaves are inside the 720h window; the CAs (years) are not.
    EXPECT_TRUE(keys.contains("cert-file")) << body.dump();
    EXPECT_TRUE(keys.contains("etcd-peer-cert-file")) << body.dump();
    EXPECT_FALSE(keys.contains("etcd-peer-trusted-ca-file")) << body.dump();
    EXPECT_NE(nodes_[0]->log().find("L109 cert-expiring"), std::string::npos) << nodes_[0]->log_tail();
}

// Last: it stops a node.
TEST_F(CertsCluster, ZAPortThatServesNothingIsNamedAndExits3) {
    nodes_[2]->signal(SIGTERM);
    ASSERT_TRUE(nodes_[2]->wait_exit(30));
    const auto r = ctl({"cluster", "certs"});
    EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
    EXPECT_NE(r.err.find("c3 client: dial tcp 127.0.0.154:2379: connect: connection refused"), std::string::npos)
        << r.err;
    EXPECT_NE(r.out.find(on_disk("c1", "api")), std::string::npos) << "the others are still shown:\n" << r.out;
}

}  // namespace
}  // namespace trellis::testing
