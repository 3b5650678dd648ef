// Issue 11's proof of live renewal and of check-expiration, through the built tools, on this test's own
// loopback addresses (127.0.0.221-223, standard ports; safe beside the other suites): a live 3-node
// cluster provisioned by cluster-config, a writer through all three client endpoints the whole time,
// `cluster-config renew` of every leaf while it writes; then every port of every node serves the new
// certificate, no request failed, every acknowledged key is on every node, and nothing restarted.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "backend_fixture.hpp"
#include "core/files.hpp"
#include "pki/certificate.hpp"
#include "pki/issue.hpp"
#include "shared_cluster.hpp"
#include "support.hpp"
#include "writer.hpp"

namespace trellis::testing {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;
using nlohmann::json;

constexpr const char* kPrefix = "/renew/";
constexpr const char* kStrictPrefix = "/renew-strict/";
constexpr int kRounds = 3;  // renewals of every leaf under one writer
constexpr const char* kSpec = R"(cluster:
  name: renew-test
  token: trellis-renew-test
security: full
ca: separate
store: embedded
nodes:
  - name: r1
    address: 127.0.0.221
  - name: r2
    address: 127.0.0.222
  - name: r3
    address: 127.0.0.223
clients:
  - name: admin
)";

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

class Renew : public SharedCluster {
  protected:
    static void SetUpTestSuite() { start_cluster(kSpec); }
    static void TearDownTestSuite() { stop_cluster(); }
    static RunResult ctl(const std::vector<std::string>& args) { return cluster_->trellisctl(args); }
    // node + " " + port ("client", "peer", "api") -> the serial of the file that port serves, on disk now.
    static std::map<std::string, std::string> on_disk() {
        std::map<std::string, std::string> out;
        for (const auto& n : cluster_->nodes())
            for (const auto& [port, suffix] : {std::pair{"client", ""}, {"peer", "-peer"}, {"api", "-api"}})
                out[n + " " + port] = serial_of(cluster_->out() / n / (n + suffix + ".pem"));
        return out;
    }
    // The same, as `trellisctl cluster certs` reads it from a handshake with every port.
    static std::map<std::string, std::string> served() {
        const RunResult r = ctl({"cluster", "certs", "--format", "json"});
        std::map<std::string, std::string> out;
        if (r.exit_code != 0) {
            out["error"] = r.err;
            return out;
        }
        const json doc = json::parse(r.out);  // named: a temporary would die before the loop ends
        for (const auto& c : doc["Certificates"])
            out[c["Node"].get<std::string>() + " " + c["Port"].get<std::string>()] = c.value("Serial", "");
        return out;
    }
};

TEST_F(Renew, EveryLeafRenewedUnderAWriterIsServedWithNoFailureNoLossAndNoRestart) {
    const auto before = on_disk();
    ASSERT_EQ(served(), before) << "before renewal every port serves what is on its disk";
    const auto pids_before = pids();
    ASSERT_EQ(pids_before.size(), 6u) << "3 backends and their 3 etcd";
    const std::string ca_before = read_file(cluster_->ca_key()) + read_file(cluster_->out() / "ca" / "peer-ca-key.pem");

    std::vector<std::string> endpoints;
    for (const auto& n : cluster_->nodes()) endpoints.push_back(cluster_->client_url(n));
    const store::TlsFiles tls{cluster_->admin_cert().string(), cluster_->admin_key().string(),
                              cluster_->admin_ca().string()};
    // The proof: the store client with failover, as a user's client would be. Beside it, a strict writer
    // whose every request goes to one endpoint only: its failures are counted and printed, not hidden.
    Writer writer(endpoints, tls, kPrefix, Writer::Mode::Failover);
    Writer strict(endpoints, tls, kStrictPrefix, Writer::Mode::PerEndpoint);
    const auto write_start = Clock::now();
    writer.start();
    strict.start();
    ASSERT_TRUE(writer.wait_for_more(30, 30)) << "the writer got nothing acknowledged";
    std::this_thread::sleep_for(2s);  // a steady state to compare with

    // Renew every leaf three times in a row while the writer runs: every writer request is a new
    // handshake (the store client keeps no connection), reading the admin pair being replaced too.
    double renew_seconds = 0, serve_seconds = 0;
    std::map<std::string, std::string> previous = before;
    for (int round = 0; round < kRounds; ++round) {
        const auto renew_start = Clock::now();
        const RunResult renew = tool({"renew", "spec.yml", "--out", "out"});
        renew_seconds = std::max(renew_seconds, seconds_since(renew_start));
        ASSERT_EQ(renew.exit_code, 0) << renew.out << renew.err;
        EXPECT_NE(renew.out.find("10 certificates issued"), std::string::npos) << renew.out;
        const auto after = on_disk();
        for (const auto& [where, serial] : after) EXPECT_NE(serial, previous.at(where)) << where << " not renewed";
        // Every port serves the new certificate from its next handshake (bounded wait, polled).
        std::map<std::string, std::string> now;
        const auto serve_start = Clock::now();
        while (seconds_since(serve_start) < 30 && (now = served()) != after) std::this_thread::sleep_for(200ms);
        serve_seconds = std::max(serve_seconds, seconds_since(serve_start));
        ASSERT_EQ(now, after) << "round " << round << ": trellisctl cluster certs does not show the new serials";
        previous = after;
        std::this_thread::sleep_for(1s);
    }
    EXPECT_EQ(read_file(cluster_->ca_key()) + read_file(cluster_->out() / "ca" / "peer-ca-key.pem"), ca_before)
        << "renew must never touch a CA key";

    std::this_thread::sleep_for(2s);
    ASSERT_TRUE(writer.wait_for_more(30, 30)) << "the writer stalled after renewal";
    writer.stop();
    strict.stop();
    const auto acked = writer.acknowledged();
    std::cout << "renew: " << writer.requests() << " requests, " << writer.failures() << " failed, " << acked.size()
              << " acknowledged over " << seconds_since(write_start) << " s; " << kRounds
              << " renewals of every leaf, the slowest took " << renew_seconds << " s, new serials served at most "
              << serve_seconds << " s after it\n";
    RecordProperty("requests", static_cast<int>(writer.requests()));
    RecordProperty("failed", static_cast<int>(writer.failures()));
    RecordProperty("acknowledged", static_cast<int>(acked.size()));
    EXPECT_EQ(writer.failures(), 0u);
    for (const auto& m : writer.failure_messages()) ADD_FAILURE() << "failed request: " << m;
    std::cout << "renew: the strict writer (one endpoint per request, no failover): " << strict.requests()
              << " requests, " << strict.failures() << " failed, " << strict.acknowledged().size() << " acknowledged\n";
    for (const auto& m : strict.failure_messages()) std::cout << "  strict writer: " << m << '\n';
    RecordProperty("strict_failed", static_cast<int>(strict.failures()));
    for (const auto& n : cluster_->nodes()) {
        EXPECT_EQ(missing_keys(*cluster_, n, kPrefix, acked), 0u) << n;
        EXPECT_EQ(missing_keys(*cluster_, n, kStrictPrefix, strict.acknowledged()), 0u) << n;
    }

    EXPECT_EQ(pids(), pids_before) << "no backend and no etcd may restart";
    for (auto* n : nodes_) EXPECT_FALSE(n->wait_exit(0));
    for (std::size_t i = 0; i < nodes_.size(); ++i)
        EXPECT_NE(nodes_[i]->log().find("API TLS files reloaded"), std::string::npos) << cluster_->nodes()[i];
    EXPECT_TRUE(wait_healthy(*cluster_->api("r2"), 3, 10s));
}

TEST_F(Renew, CheckExpirationReportsTheFilesOnDiskAndExits6InsideTheWindow) {
    const RunResult ok = tool({"check-expiration", "out", "--format", "json"});
    ASSERT_EQ(ok.exit_code, 0) << ok.err;
    const json doc = json::parse(ok.out);
    EXPECT_EQ(doc["window"], "720h0m0s") << "the spec's renew-before, as DIR records it";
    ASSERT_EQ(doc["certificates"].size(), 12u);
    for (const auto& c : doc["certificates"])
        EXPECT_EQ(c["serial"], serial_of(cluster_->out() / c["file"].get<std::string>())) << c.dump();

    const RunResult due = tool({"check-expiration", "out", "--within", "9000h"});
    EXPECT_EQ(due.exit_code, 6) << due.err;
    EXPECT_NE(due.out.find("r2-peer"), std::string::npos) << "the table is still printed:\n" << due.out;
    EXPECT_NE(due.err.find("0 expired, 10 inside the window of 9000h0m0s"), std::string::npos) << due.err;

    EXPECT_EQ(tool({"check-expiration", "out", "--within", "soon"}).exit_code, 2);
    const RunResult unknown = tool({"renew", "spec.yml", "--out", "out", "--name", "r9-api"});
    EXPECT_EQ(unknown.exit_code, 1);
    EXPECT_NE(unknown.err.find("--name r9-api: no leaf certificate of that name"), std::string::npos) << unknown.err;
}

// An expired leaf in a DIR of its own (no cluster): reported as expired, exit 6.
TEST(CheckExpiration, AnExpiredLeafIsReportedAndExits6) {
    TempDir tmp;
    spit(tmp / "spec.yml", kSpec);
    const auto cc = build_path("cluster-config/cluster-config").string();
    ASSERT_EQ(run({cc, "provision", "spec.yml", "--out", "out"}, {}, tmp.path(), 120).exit_code, 0);
    const auto ca = pki::Signer::load((tmp / "out/ca/ca.pem").string(), (tmp / "out/ca/ca-key.pem").string());
    pki::Profile expired;
    expired.usages = {"digital signature", "server auth"};
    expired.not_before = std::chrono::floor<std::chrono::seconds>(pki::Clock::now() - 48h);
    expired.not_after = std::chrono::floor<std::chrono::seconds>(pki::Clock::now() - 24h);
    pki::CertificateRequest req;
    req.cn = "r1";
    req.hosts = {"127.0.0.221"};
    Warnings w;
    const auto issued = pki::issue(req, ca, expired, {}, w);
    write_file_atomic(tmp / "out/r1/r1-api.pem", issued.cert, kPublicMode);
    write_file_atomic(tmp / "out/r1/r1-api-key.pem", issued.key, kSecretMode);
    const RunResult r = run({cc, "check-expiration", "out", "--format", "json"}, {}, tmp.path(), 60);
    EXPECT_EQ(r.exit_code, 6) << r.err;
    const json doc = json::parse(r.out);
    bool seen = false;
    for (const auto& c : doc["certificates"]) {
        if (c["name"] != "r1-api") continue;
        seen = true;
        EXPECT_EQ(c["state"], "expired");
        EXPECT_EQ(c["not_after"], utc_text(*expired.not_after));
    }
    EXPECT_TRUE(seen) << r.out;
    EXPECT_NE(r.err.find("1 expired, 0 inside the window"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace trellis::testing
