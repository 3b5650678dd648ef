// Issue 10's authorization by role, on the roles suite's own hosts (127.0.0.241-243, standard ports): a
// 3-node cluster provisioned with a client of every role, and the whole matrix -- every role (admin,
// reader, agent, node, and a certificate of the cluster's CA with no role, as an older provision or the
// guide's cfssl wrote them) on every endpoint -- with the status, the JSON error naming both roles, the
// denial in the backend's log with the certificate's identity, and trellisctl's one-line error and exit 3.
#include <gtest/gtest.h>

#include <chrono>
#include <sstream>
#include <thread>

#include "backend_fixture.hpp"
#include "core/files.hpp"
#include "pki/certificate.hpp"
#include "shared_cluster.hpp"
#include "test_pki.hpp"

namespace trellis::testing {
namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

struct Identity {
    std::string name;  // the role it has, as the 403's message names it; "none" for no role
    fs::path cert, key;
};

class Roles : public SharedCluster {
  protected:
    static void SetUpTestSuite() {
        start_cluster_from(data_path("backend/roles-3.yml"), {"--log-level", "info", "--etcd-ready-timeout", "60"});
        const fs::path out = cluster_->out();
        // Signed by the cluster's own CA, with only a CN: what a provision before roles (or cfssl) issued.
        const TestPair legacy =
            issue_test_cert(TestCa{cluster_->ca_cert(), cluster_->ca_key()}, dir_->path(), "legacy", {}, "clientAuth");
        ids_ = {{"admin", cluster_->admin_cert(), cluster_->admin_key()},
                {"reader", out / "clients/monitor/monitor.pem", out / "clients/monitor/monitor-key.pem"},
                {"agent", out / "clients/agent-1/agent-1.pem", out / "clients/agent-1/agent-1-key.pem"},
                // Another node's own certificate (clientAuth, of the client CA): what a stolen node key offers.
                {"node", out / "backend-2/backend-2.pem", out / "backend-2/backend-2-key.pem"},
                {"none", legacy.cert, legacy.key}};
    }
    static void TearDownTestSuite() { stop_cluster(); }
    static httplib::Client client(const Identity& id) {
        httplib::Client c(cluster_->api_url("backend-1"), id.cert.string(), id.key.string());
        c.set_ca_cert_path(cluster_->admin_ca().string());
        c.enable_server_certificate_verification(true);
        c.set_connection_timeout(2, 0);
        c.set_read_timeout(35, 0);
        return c;
    }
    static RunResult ctl(const Identity& id, std::vector<std::string> args) {
        const std::vector<std::string> head{build_path("ctl/trellisctl").string(),
                                            "--url",
                                            cluster_->api_url("backend-1"),
                                            "--trusted-ca-file",
                                            cluster_->admin_ca().string(),
                                            "--cert-file",
                                            id.cert.string(),
                                            "--key-file",
                                            id.key.string()};
        args.insert(args.begin(), head.begin(), head.end());
        return run(args, {}, dir_->path(), 60);
    }

    static inline std::vector<Identity> ids_;
};

TEST_F(Roles, ProvisionPutsEveryRoleInItsCertificatesOrganization) {
    const fs::path out = cluster_->out();
    const std::vector<std::pair<fs::path, std::string>> want{
        {out / "clients/admin/admin.pem", "admin"},     {out / "clients/monitor/monitor.pem", "reader"},
        {out / "clients/agent-1/agent-1.pem", "agent"}, {out / "backend-1/backend-1.pem", "node"},
        {out / "backend-1/backend-1-peer.pem", "node"}, {out / "backend-1/backend-1-api.pem", "node"}};
    for (const auto& [path, role] : want)
        EXPECT_EQ(pki::Certificate::from_pem(read_file(path), path.string()).organizations(),
                  std::vector<std::string>{role})
            << path;
}

// One row per endpoint: who may (200/201), everyone else 403 with a JSON body naming both roles.
TEST_F(Roles, EveryRoleOnEveryEndpoint) {
    auto admin = client(ids_[0]);
    ASSERT_TRUE(wait_healthy(admin, 3, 90s)) << "the cluster did not turn healthy";
    const std::string members = "/api/core/v2/cluster/members";
    std::string added;  // the admin's new member (hex), for PUT and DELETE
    struct Row {
        std::string method, what;
        std::vector<std::string> allowed;
        int success;
    };
    const std::vector<Row> rows{
        {"GET", "/readyz", {"admin", "reader", "agent", "node", "none"}, 200},
        {"GET", "/health", {"admin", "reader"}, 200},
        {"GET", members, {"admin", "reader"}, 200},
        {"POST", members + "?learner=true&peer-addrs=https://127.0.0.244:2380", {"admin"}, 201},
        {"PUT", members + "/{id}?peer-addrs=https://127.0.0.245:2380", {"admin"}, 200},
        {"GET", "/api/trellis/v1/snapshot", {"admin"}, 200},
        {"GET", "/metrics", {"admin", "reader"}, 200},
        {"DELETE", members + "/{id}", {"admin"}, 200},
        // The admin's restart is proven by the rollout test: here only the refusals, which restart nothing.
        {"POST", "/api/trellis/v1/etcd/restart", {"admin"}, 0},
    };
    int checked = 0;
    for (const auto& row : rows) {
        const std::string need = row.allowed.size() == 2 ? "needs role admin or reader" : "needs role admin;";
        // The refused first: a change they asked for must not happen (the admin's DELETE comes last).
        std::vector<Identity> order(ids_.begin() + 1, ids_.end());
        order.push_back(ids_[0]);
        for (const auto& id : order) {
            if (row.success == 0 && id.name == "admin") continue;
            std::string path = row.what;
            if (auto at = path.find("{id}"); at != std::string::npos) path.replace(at, 4, added.empty() ? "1" : added);
            auto c = client(id);
            auto send = [&] {
                return row.method == "GET"    ? c.Get(path)
                       : row.method == "POST" ? c.Post(path, "", "text/plain")
                       : row.method == "PUT"  ? c.Put(path, "", "text/plain")
                                              : c.Delete(path);
            };
            httplib::Result res = send();
            // etcd refuses a member add until its members have been connected for 5 s ("unhealthy cluster").
            for (const auto deadline = Clock::now() + 30s;
                 res && res->status == 409 && contains(res->body, "unhealthy cluster") && Clock::now() < deadline;
                 res = send())
                std::this_thread::sleep_for(500ms);
            const std::string cell = row.method + " " + path + " as " + id.name;
            ASSERT_TRUE(res) << cell << ": " << httplib::to_string(res.error());
            ++checked;
            const bool allowed = std::find(row.allowed.begin(), row.allowed.end(), id.name) != row.allowed.end();
            if (allowed) {
                EXPECT_EQ(res->status, row.success) << cell << ": " << res->body.substr(0, 300);
                if (row.method == "POST" && res->status == 201) {
                    char hex[17];
                    std::snprintf(
                        hex, sizeof hex, "%016llx",
                        static_cast<unsigned long long>(json::parse(res->body)["member"]["ID"].get<std::uint64_t>()));
                    added = hex;
                }
                continue;
            }
            EXPECT_EQ(res->status, 403) << cell << ": " << res->body;
            const json body = json::parse(res->body, nullptr, false);
            ASSERT_TRUE(body.is_object() && body.size() == 2) << cell << ": " << res->body;
            EXPECT_EQ(body.value("code", 0), 16004) << cell;
            const std::string message = body.value("message", "");
            EXPECT_TRUE(contains(message, row.method + " " + path.substr(0, path.find('?')) + " " + need) ||
                        contains(message, row.method + " " + path + " " + need))
                << cell << ": " << message;
            EXPECT_TRUE(contains(message, id.name == "none" ? "has no Trellis role (no O): re-provision or renew"
                                                            : "has role " + id.name))
                << cell << ": " << message;
        }
    }
    EXPECT_EQ(checked, 8 * 5 + 4);
    EXPECT_FALSE(added.empty()) << "the admin's member add did not answer 201";
    // Nothing the refused asked for happened: exactly the three members remain.
    const auto list = cluster_->etcdctl("backend-1", {"member", "list", "-w", "json"});
    ASSERT_EQ(list.exit_code, 0) << list.err;
    EXPECT_EQ(json::parse(list.out)["members"].size(), 3u) << list.out;
}

// Issue 13's /metrics, read as a monitoring system would (the reader role): Prometheus' own parser takes
// the document, and its samples say what the cluster, the node's etcd, its certificates and the API did.
TEST_F(Roles, MetricsTellTheClusterTheCertificatesAndTheRequests) {
    auto admin = client(ids_[0]), reader = client(ids_[1]);
    ASSERT_TRUE(wait_healthy(admin, 3, 90s)) << "the cluster did not turn healthy";
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(reader.Get("/health")) << "GET /health";
    const auto res = reader.Get("/metrics");
    ASSERT_TRUE(res) << httplib::to_string(res.error());
    ASSERT_EQ(res->status, 200) << res->body;
    EXPECT_EQ(res->get_header_value("Content-Type").rfind("text/plain; version=0.0.4", 0), 0u);
    const std::string& text = res->body;
    // Prometheus' Python client parses every sample; we count sample lines ourselves to compare.
    const RunResult parsed =
        run({"/usr/bin/python3", "-c",
             "import sys\nfrom prometheus_client.parser import text_string_to_metric_families as p\n"
             "print(sum(len(f.samples) for f in p(sys.stdin.read())))"},
            text);
    ASSERT_EQ(parsed.exit_code, 0) << parsed.err;
    int samples = 0;
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) samples += !line.empty() && line[0] != '#';
    EXPECT_EQ(std::stoi(parsed.out), samples) << text;
    // The whole line that starts with `prefix` ("" when none does).
    const auto line_of = [&text](const std::string& prefix) {
        const auto at = text.find("\n" + prefix);
        return at == std::string::npos ? std::string() : text.substr(at + 1, text.find('\n', at + 1) - at - 1);
    };
    for (const std::string name : {"backend-1", "backend-2", "backend-3"}) {
        const std::string line = line_of("trellis_member_healthy{member=\"" + name + "\",id=\"");
        EXPECT_TRUE(line.ends_with("\"} 1")) << name << ": " << line << "\n" << text;
    }
    for (const std::string line : {"trellis_cluster_healthy 1\n", "trellis_etcd_up 1\n", "trellis_etcd_has_leader 1\n"})
        EXPECT_TRUE(contains(text, line)) << line << text;
    const std::string health = "trellis_api_requests_total{method=\"GET\",route=\"/health\",code=\"200\"} ";
    ASSERT_TRUE(contains(text, health)) << text;
    EXPECT_GE(std::stoi(text.substr(text.find(health) + health.size())), 3);
    // The API's own certificate, with its not-after as the file on disk has it.
    const std::string cert_line = "trellis_certificate_not_after_seconds{key=\"cert-file\",file=\"";
    const auto at = text.find(cert_line);
    ASSERT_NE(at, std::string::npos) << text;
    const std::string file =
        text.substr(at + cert_line.size(), text.find('"', at + cert_line.size()) - at - cert_line.size());
    const auto not_after = pki::Certificate::from_pem(read_file(file), file).not_after();
    const auto value = text.substr(text.find("} ", at) + 2, text.find('\n', at) - text.find("} ", at) - 2);
    EXPECT_EQ(std::stoll(value),
              std::chrono::duration_cast<std::chrono::seconds>(not_after.time_since_epoch()).count());
}

TEST_F(Roles, EveryDenialIsLoggedWithTheCertificatesIdentity) {
    auto agent = client(ids_[2]);
    ASSERT_TRUE(agent.Get("/health"));
    const std::string log = read_file(cluster_->log("backend-1"));
    for (const auto& id : ids_) {
        if (id.name == "admin") continue;
        const std::string cn = id.name == "reader"  ? "monitor"
                               : id.name == "agent" ? "agent-1"
                               : id.name == "node"  ? "backend-2"
                                                    : "legacy";
        const std::string who = "CN=" + cn + ", serial " + serial_of(id.cert);
        bool found = false;
        for (std::size_t at = 0; (at = log.find("denied: ", at)) != std::string::npos; ++at) {
            const std::string line = log.substr(at, log.find('\n', at) - at);
            if (contains(line, who)) found = true;
        }
        EXPECT_TRUE(found) << "no denial logged for " << who << "\n"
                           << log.substr(log.size() > 4000 ? log.size() - 4000 : 0);
    }
}

TEST_F(Roles, TrellisctlShowsA403AsOneLineAndExits3) {
    const RunResult denied = ctl(ids_[2], {"cluster", "member-list"});
    EXPECT_EQ(denied.exit_code, 3) << denied.err;
    EXPECT_EQ(std::count(denied.err.begin(), denied.err.end(), '\n'), 1) << denied.err;
    EXPECT_TRUE(contains(denied.err, "needs role admin or reader")) << denied.err;
    EXPECT_TRUE(contains(denied.err, "has role agent")) << denied.err;
    EXPECT_TRUE(contains(denied.err, "(HTTP 403, error 16004 Forbidden)")) << denied.err;

    const RunResult read = ctl(ids_[1], {"cluster", "member-list"});
    EXPECT_EQ(read.exit_code, 0) << read.err;
    EXPECT_TRUE(contains(read.out, "backend-1")) << read.out;
    const RunResult change = ctl(ids_[1], {"cluster", "member-remove", "1234"});
    EXPECT_EQ(change.exit_code, 3) << change.err;
    EXPECT_TRUE(contains(change.err, "needs role admin; this certificate (CN=monitor")) << change.err;
    EXPECT_TRUE(contains(change.err, "has role reader")) << change.err;
}

}  // namespace
}  // namespace trellis::testing
