// Issue 11 item 4: CA rotation in stages through the built tools. The CLI's stages on a DIR of their own
// (order, re-runs, kills), and the proof on a live 3-node cluster on this test's own loopback addresses
// (127.0.0.171-173, standard ports): the client CA, then the peer CA, rotated through trust -> rollout ->
// reissue -> finish -> rollout while writers put keys through all three client endpoints the whole time;
// then no acknowledged key is missing on any node, the cluster never fell below a quorum, and certificates
// of the old CAs that worked before are refused on the client, API and peer ports.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <thread>

#include <nlohmann/json.hpp>

#include "backend_fixture.hpp"
#include "cluster/rotation.hpp"
#include "core/files.hpp"
#include "pki/certificate.hpp"
#include "pki/issue.hpp"
#include "support.hpp"
#include "writer.hpp"

namespace trellis::testing {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;
using nlohmann::json;

constexpr const char* kPrefix = "/rotate/";
constexpr const char* kStrictPrefix = "/rotate-strict/";
constexpr const char* kSpec = R"(cluster:
  name: rotate-test
  token: trellis-rotate-test
security: full
ca: separate
store: embedded
nodes:
  - name: o1
    address: 127.0.0.171
  - name: o2
    address: 127.0.0.172
  - name: o3
    address: 127.0.0.173
clients:
  - name: admin
)";

std::string cluster_config() { return build_path("cluster-config/cluster-config").string(); }

RunResult tool(const fs::path& dir, std::vector<std::string> args, int timeout = 120) {
    args.insert(args.begin(), cluster_config());
    return run(args, {}, dir, timeout);
}

RunResult stage(const fs::path& dir, const std::string& ca, const std::string& s) {
    return tool(dir, {"rotate-ca", "spec.yml", "--out", "out", "--ca", ca, "--stage", s});
}

// Every file under DIR (the rotation record and manifest included) with its content.
std::map<std::string, std::string> contents(const fs::path& dir) {
    std::map<std::string, std::string> out;
    for (const auto& e : fs::recursive_directory_iterator(dir))
        if (e.is_regular_file()) out[fs::relative(e.path(), dir).string()] = read_file(e.path());
    return out;
}

std::size_t certs_in(const fs::path& file) {
    return pki::Certificate::all_from_pem(read_file(file), file.string()).size();
}

TEST(RotateCli, StagesInOrderReRunsIssueNothingAndOutOfOrderIsOneLineWithCode1107) {
    TempDir tmp;
    spit(tmp / "spec.yml", kSpec);
    ASSERT_EQ(tool(tmp.path(), {"provision", "spec.yml", "--out", "out"}).exit_code, 0);
    const RunResult early = stage(tmp.path(), "client", "finish");
    EXPECT_EQ(early.exit_code, 1);
    EXPECT_NE(early.err.find("no stage is done; run --stage trust next"), std::string::npos) << early.err;
    EXPECT_NE(early.err.find("(code 1107)"), std::string::npos) << early.err;
    EXPECT_EQ(std::count(early.err.begin(), early.err.end(), '\n'), 1) << early.err;

    const RunResult trust = stage(tmp.path(), "client", "trust");
    ASSERT_EQ(trust.exit_code, 0) << trust.err;
    EXPECT_NE(trust.err.find("next: copy every DIR/<node>/"), std::string::npos) << trust.err;
    EXPECT_EQ(certs_in(tmp / "out/o2/ca.pem"), 2u);
    EXPECT_EQ(certs_in(tmp / "out/o2/peer-ca.pem"), 1u);
    EXPECT_FALSE(fs::exists(tmp / "out/o2/ca-next-key.pem"));
    EXPECT_EQ(fs::status(tmp / "out/ca/ca-next-key.pem").permissions() & fs::perms::all,
              fs::perms::owner_read | fs::perms::owner_write);
    // check-expiration shows the new CA beside the old one while the rotation is in progress.
    const RunResult expiry = tool(tmp.path(), {"check-expiration", "out", "--format", "json"});
    EXPECT_NE(expiry.out.find("\"ca/ca-next.pem\""), std::string::npos) << expiry.out << expiry.err;
    // Re-run: nothing issued, every file byte for byte the same.
    const auto after_trust = contents(tmp / "out");
    const RunResult again = stage(tmp.path(), "client", "trust");
    ASSERT_EQ(again.exit_code, 0) << again.err;
    EXPECT_NE(again.out.find("changed: false"), std::string::npos) << again.out;
    EXPECT_NE(again.out.find("0 certificates issued"), std::string::npos) << again.out;
    EXPECT_EQ(contents(tmp / "out"), after_trust);

    const RunResult status =
        tool(tmp.path(), {"rotate-ca", "spec.yml", "--out", "out", "--status", "--format", "json"});
    ASSERT_EQ(status.exit_code, 0) << status.err;
    const json doc = json::parse(status.out);
    EXPECT_EQ(doc["rotations"][0]["ca"], "client-ca");
    EXPECT_EQ(doc["rotations"][0]["done"], "trust");
    EXPECT_EQ(doc["rotations"][0]["bundles"], 4);
    EXPECT_TRUE(doc["rotations"][1]["done"].is_null());

    const RunResult reissue = stage(tmp.path(), "client", "reissue");
    ASSERT_EQ(reissue.exit_code, 0) << reissue.err;
    EXPECT_NE(reissue.out.find("7 certificates issued"), std::string::npos) << reissue.out;
    const RunResult reissue_again = stage(tmp.path(), "client", "reissue");
    EXPECT_NE(reissue_again.out.find("0 certificates issued"), std::string::npos) << reissue_again.out;
    const std::string next_ca = read_file(tmp / "out/ca/ca-next.pem");
    const RunResult finish = stage(tmp.path(), "client", "finish");
    ASSERT_EQ(finish.exit_code, 0) << finish.err;
    EXPECT_EQ(read_file(tmp / "out/ca/ca.pem"), next_ca);
    EXPECT_FALSE(fs::exists(tmp / "out/ca/ca-next.pem"));
    EXPECT_EQ(certs_in(tmp / "out/o2/ca.pem"), 1u);
    std::size_t retired = 0;
    for (const auto& e : fs::directory_iterator(tmp / "out/ca"))
        retired += e.path().filename().string().starts_with("ca-retired-");
    EXPECT_EQ(retired, 2u) << "the old CA and its key, moved aside";
    EXPECT_EQ(tool(tmp.path(), {"provision", "spec.yml", "--out", "out", "--check"}).exit_code, 0)
        << "after finish, provision has nothing to change";
    EXPECT_EQ(tool(tmp.path(), {"rotate-ca", "spec.yml", "--out", "out", "--ca", "client"}).exit_code, 2);
    EXPECT_EQ(tool(tmp.path(), {"rotate-ca", "spec.yml", "--out", "out", "--ca", "cli", "--stage", "trust"}).exit_code,
              2);
}

// kill -9 at moments spread over a trust stage, then a re-run: either the killed run reached its commit point
// (then its new CA is the one kept: the re-run issues nothing) or it did not (then the re-run makes it); never
// two new CAs, never a bundle of another CA than DIR/ca's.
TEST(RotateCli, AKilledTrustStageResumesAndIssuesNothingTwice) {
    TempDir tmp;
    spit(tmp / "spec.yml", kSpec);
    const fs::path out = tmp / "out";
    ASSERT_EQ(tool(tmp.path(), {"provision", "spec.yml", "--out", "out"}).exit_code, 0);
    // How long one trust stage takes here (then back to no rotation for the rounds).
    const auto started = Clock::now();
    ASSERT_EQ(stage(tmp.path(), "peer", "trust").exit_code, 0);
    const auto full = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - started);
    ASSERT_EQ(stage(tmp.path(), "peer", "reissue").exit_code, 0);
    ASSERT_EQ(stage(tmp.path(), "peer", "finish").exit_code, 0);
    constexpr int kPoints = 8;
    int committed = 0;
    for (int i = 0; i < kPoints; ++i) {
        const auto delay = full * (i + 1) / (kPoints + 1);
        SCOPED_TRACE("killed after " + std::to_string(delay.count()) + " us of a " + std::to_string(full.count()) +
                     " us run");
        {
            ChildProcess child({cluster_config(), "rotate-ca", (tmp / "spec.yml").string(), "--out", out.string(),
                                "--ca", "peer", "--stage", "trust"},
                               tmp / "kill.log");
            std::this_thread::sleep_for(delay);
            child.kill_now();
        }
        recover_interrupted_commit(out);  // what the next run does first, done here to look in between
        const bool done_by_killed = fs::exists(out / "ca/peer-ca-next.pem");
        const std::string killed_next = done_by_killed ? read_file(out / "ca/peer-ca-next.pem") : "";
        committed += done_by_killed;
        const RunResult resumed = stage(tmp.path(), "peer", "trust");
        ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
        const auto done = contents(out);
        const std::string next = done.at("ca/peer-ca-next.pem");
        if (done_by_killed) {
            EXPECT_EQ(next, killed_next) << "the new CA of the killed run was made again";
            EXPECT_NE(resumed.out.find("changed: false"), std::string::npos) << resumed.out;
        }
        for (const auto* node : {"o1", "o2", "o3"})
            EXPECT_EQ(done.at(std::string(node) + "/peer-ca.pem"), done.at("ca/peer-ca.pem") + next) << node;
        const RunResult again = stage(tmp.path(), "peer", "trust");
        EXPECT_NE(again.out.find("0 certificates issued"), std::string::npos) << again.out;
        EXPECT_EQ(contents(out), done);
        ASSERT_EQ(stage(tmp.path(), "peer", "reissue").exit_code, 0);  // through to the end, for the next round
        ASSERT_EQ(stage(tmp.path(), "peer", "finish").exit_code, 0);
    }
    std::printf("rotate-ca trust killed at %d points of a %lld us run: %d had reached the commit point\n", kPoints,
                static_cast<long long>(full.count()), committed);
}

// A certificate from a CA as it is now (written beside it, with a copy of that CA), as old credentials kept
// somewhere would be: an admin client of the client CA, or a peer of the peer CA (the SANs etcd checks a
// peer's source address against).
struct OldPair {
    fs::path cert, key, ca;
};
OldPair old_pair_of(const fs::path& ca_cert, const fs::path& ca_key, const fs::path& dir, const std::string& name,
                    bool peer) {
    const auto ca = pki::Signer::load(ca_cert.string(), ca_key.string());
    pki::Profile profile;
    profile.usages = {"digital signature", "client auth"};
    if (peer) profile.usages.push_back("server auth");
    profile.expiry = std::chrono::hours(24);
    pki::CertificateRequest req;
    req.cn = name;
    if (peer) req.hosts = {"127.0.0.1", "127.0.0.171", "127.0.0.172", "127.0.0.173"};
    req.names.push_back(pki::Name{"", "", "", peer ? "node" : "admin", "", ""});  // its role
    Warnings w;
    const auto issued = pki::issue(req, ca, profile, {}, w);
    const OldPair out{dir / (name + ".pem"), dir / (name + "-key.pem"), dir / (name + "-ca.pem")};
    write_file_atomic(out.cert, issued.cert, kPublicMode);
    write_file_atomic(out.key, issued.key, kSecretMode);
    write_file_atomic(out.ca, read_file(ca_cert), kPublicMode);
    return out;
}

// GET https://host:port/health (the peer port: /version) with a client pair, trusting `ca`: the status, or the
// transport error.
std::string answer(const std::string& host, int port, const fs::path& cert, const fs::path& key, const fs::path& ca) {
    httplib::SSLClient client(host, port, cert.string(), key.string());
    client.set_ca_cert_path(ca.string());
    client.enable_server_certificate_verification(true);
    client.set_connection_timeout(3);
    client.set_read_timeout(5);
    const auto res = client.Get(port == 2380 ? "/version" : "/health");
    return res ? "HTTP " + std::to_string(res->status) : "refused: " + httplib::to_string(res.error());
}

TEST(RotateLive, BothCasRotateUnderAWriterWithNoLossAQuorumThroughoutAndTheOldCasRefused) {
    TempDir dir;
    spit(dir / "spec.yml", kSpec);
    const ProvisionedCluster cluster(dir / "spec.yml", dir.path());
    std::vector<std::unique_ptr<ChildProcess>> nodes;
    for (const auto& n : cluster.nodes())
        nodes.push_back(cluster.start(n, {"--log-level", "info", "--etcd-ready-timeout", "60", "--stop-timeout", "5"}));
    ASSERT_TRUE(wait_healthy(*cluster.api("o1"), 3, 90s)) << nodes[0]->log_tail();
    const OldPair old_admin = old_pair_of(cluster.ca_cert(), cluster.ca_key(), dir.path(), "old-admin", false);
    const fs::path peer_ca = cluster.out() / "ca" / "peer-ca.pem";
    const OldPair old_peer =
        old_pair_of(peer_ca, cluster.out() / "ca" / "peer-ca-key.pem", dir.path(), "old-peer", true);
    // Before: both work (so that "refused" afterwards is the rotation's doing).
    for (const int port : {2379, 8080})
        ASSERT_EQ(answer("127.0.0.171", port, old_admin.cert, old_admin.key, old_admin.ca), "HTTP 200") << port;
    ASSERT_TRUE(answer("127.0.0.171", 2380, old_peer.cert, old_peer.key, old_peer.ca).starts_with("HTTP"));

    std::vector<std::string> endpoints;
    for (const auto& n : cluster.nodes()) endpoints.push_back(cluster.client_url(n));
    const store::TlsFiles tls{cluster.admin_cert().string(), cluster.admin_key().string(), cluster.admin_ca().string()};
    Writer writer(endpoints, tls, kPrefix, Writer::Mode::Failover);
    Writer strict(endpoints, tls, kStrictPrefix, Writer::Mode::PerEndpoint);
    writer.start();
    strict.start();
    ASSERT_TRUE(writer.wait_for_more(30, 30)) << "the writer got nothing acknowledged";
    QuorumSampler quorum(cluster, 2000);

    // Each step, with the failed requests of both writers during it.
    std::vector<std::string> report;
    auto step = [&](const std::string& name, const std::vector<std::string>& args, bool ctl) {
        const std::size_t f0 = writer.failures(), s0 = strict.failures();
        const auto start = Clock::now();
        const RunResult r = ctl ? cluster.trellisctl(args, 300) : tool(dir.path(), args);
        report.push_back(name + ": " + std::to_string(std::chrono::duration<double>(Clock::now() - start).count()) +
                         " s, failover writer " + std::to_string(writer.failures() - f0) + " failed, strict writer " +
                         std::to_string(strict.failures() - s0) + " failed");
        return r;
    };
    // One CA through its three stages, with a rollout after trust and after finish (the runbook's order).
    std::vector<double> totals;
    auto rotate = [&](const std::string& ca) {
        const auto start = Clock::now();
        for (const auto* s : {"trust", "rollout", "reissue", "finish", "rollout"}) {
            const bool rollout = std::string(s) == "rollout";
            const RunResult r =
                rollout
                    ? step(ca + " rollout", {"cluster", "rollout"}, true)
                    : step(ca + " " + s, {"rotate-ca", "spec.yml", "--out", "out", "--ca", ca, "--stage", s}, false);
            if (r.exit_code != 0) return ::testing::AssertionFailure() << ca << ' ' << s << ": " << r.err << r.out;
            // etcd and the API take new pairs from their next handshake: let a few writes through first.
            if (!rollout && !writer.wait_for_more(10, 30)) return ::testing::AssertionFailure() << "writer stalled";
        }
        totals.push_back(std::chrono::duration<double>(Clock::now() - start).count());
        return ::testing::AssertionSuccess();
    };
    EXPECT_TRUE(rotate("client"));
    EXPECT_TRUE(rotate("peer"));

    ASSERT_TRUE(writer.wait_for_more(30, 30)) << "the writer stalled after the rotation";
    quorum.stop();
    writer.stop();
    strict.stop();
    const auto acked = writer.acknowledged();
    for (std::size_t i = 0; i < totals.size(); ++i)
        std::cout << "rotate-ca " << (i == 0 ? "client" : "peer") << ": " << totals[i]
                  << " s for trust, rollout, reissue, finish, rollout\n";
    for (const auto& line : report) std::cout << "  " << line << '\n';
    std::cout << "  failover writer: " << writer.requests() << " requests, " << writer.failures() << " failed, "
              << acked.size() << " acknowledged; strict writer: " << strict.requests() << " requests, "
              << strict.failures() << " failed; fewest healthy members " << quorum.fewest_healthy() << " in "
              << quorum.samples() << " samples\n";
    for (const auto& m : writer.failure_messages()) std::cout << "  failover writer: " << m << '\n';
    for (const auto& m : strict.failure_messages()) std::cout << "  strict writer: " << m << '\n';
    RecordProperty("failed", static_cast<int>(writer.failures()));
    RecordProperty("strict_failed", static_cast<int>(strict.failures()));
    RecordProperty("fewest_healthy", static_cast<int>(quorum.fewest_healthy()));
    EXPECT_GE(quorum.fewest_healthy(), 2u) << "the cluster dropped below a quorum";
    ASSERT_GT(acked.size(), 60u);
    for (const auto& n : cluster.nodes()) {
        EXPECT_EQ(missing_keys(cluster, n, kPrefix, acked), 0u) << n;
        EXPECT_EQ(missing_keys(cluster, n, kStrictPrefix, strict.acknowledged()), 0u) << n;
    }
    for (auto& n : nodes) EXPECT_FALSE(n->wait_exit(0)) << "a backend exited: " << n->log_tail();

    // The old CAs are gone from every trust file: their certificates are refused on all three ports, the
    // new ones are not.
    for (const auto* node : {"o1", "o2", "o3"}) {
        const std::string host = "127.0.0.17" + std::string(1, node[1]);
        for (const int port : {2379, 8080}) {
            EXPECT_EQ(answer(host, port, cluster.admin_cert(), cluster.admin_key(), cluster.admin_ca()), "HTTP 200")
                << host << ':' << port;
            EXPECT_TRUE(answer(host, port, old_admin.cert, old_admin.key, cluster.admin_ca()).starts_with("refused"))
                << host << ':' << port << " still accepts a certificate of the old client CA";
        }
        const auto peer = cluster.out() / node / (std::string(node) + "-peer");
        EXPECT_TRUE(answer(host, 2380, peer.string() + ".pem", peer.string() + "-key.pem", peer_ca).starts_with("HTTP"))
            << host << ":2380 refuses its own new peer certificate";
        EXPECT_TRUE(answer(host, 2380, old_peer.cert, old_peer.key, peer_ca).starts_with("refused"))
            << host << ":2380 still accepts a certificate of the old peer CA";
    }
    // What every client and API port serves now is a certificate of the new CA (the CN is the old one's:
    // only the key and the signature tell the two apart).
    const RunResult certs = cluster.trellisctl({"cluster", "certs", "--format", "json"});
    ASSERT_EQ(certs.exit_code, 0) << certs.err;
    const json served = json::parse(certs.out);
    const auto new_ca = pki::Certificate::from_pem(read_file(cluster.ca_cert()), "ca.pem");
    const auto new_peer_ca = pki::Certificate::from_pem(read_file(peer_ca), "peer-ca.pem");
    std::size_t checked = 0;
    for (const auto& c : served["Certificates"]) {
        const std::string node = c["Node"], port = c["Port"];
        const std::string suffix = port == "api" ? "-api" : port == "peer" ? "-peer" : "";
        const auto file = cluster.out() / node / (node + suffix + ".pem");
        const auto on_disk = pki::Certificate::from_pem(read_file(file), file.string());
        EXPECT_EQ(c.value("Serial", ""), on_disk.serial_decimal()) << c.dump();
        EXPECT_TRUE(cluster::signed_by(on_disk, port == "peer" ? new_peer_ca : new_ca)) << file;
        ++checked;
    }
    EXPECT_EQ(checked, 9u);
}

}  // namespace
}  // namespace trellis::testing
