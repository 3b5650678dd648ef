// One trellis-backend at a time on its own addresses (127.0.0.21-34, ports of our own),
// so these run in parallel with other tests: preflight refusals (one per lint finding
// class), how the API is served (plain HTTP only when asked for), flag > env > file
// precedence, a dying etcd, and the external-store mode.
#include <gtest/gtest.h>
#include <httplib.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <map>
#include <sstream>
#include <thread>

#include "backend_fixture.hpp"
#include "core/cli.hpp"
#include "core/files.hpp"
#include "pki/certificate.hpp"
#include "pki/issue.hpp"
#include "store/etcd_client.hpp"
#include "support.hpp"
#include "test_etcd.hpp"
#include "test_pki.hpp"

namespace trellis::testing {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

std::string backend() { return build_path("backend/trellis-backend").string(); }

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

using Yaml = std::map<std::string, std::string>;

std::string to_yaml(const Yaml& y) {
    std::string out;
    for (const auto& [k, v] : y) out += k + ": \"" + v + "\"\n";
    return out;
}

// A valid single-node mTLS config on `ip`, certificates beside it.
struct Node {
    TempDir ca_dir;  // CA keys never sit next to a node's configuration (lint L123)
    TempDir dir;
    TestCa ca;
    TestPair cert;
    Yaml yaml;
    explicit Node(const std::string& ip, int port_base = 24000) {
        ca = make_test_ca(ca_dir.path(), "ca");
        cert = issue_test_cert(ca, dir.path(), "node", {ip, "127.0.0.1"}, "serverAuth,clientAuth");
        const std::string c = "https://" + ip + ":" + std::to_string(port_base + 1);
        const std::string p = "https://" + ip + ":" + std::to_string(port_base + 2);
        yaml = {{"state-dir", (dir.path() / "state").string()},
                {"api-listen-address", ip + ":" + std::to_string(port_base)},
                {"cert-file", cert.cert.string()},
                {"key-file", cert.key.string()},
                {"trusted-ca-file", ca.cert.string()},
                {"etcd-advertise-client-urls", c},
                {"etcd-listen-client-urls", c},
                {"etcd-listen-peer-urls", p},
                {"etcd-initial-advertise-peer-urls", p},
                {"etcd-initial-cluster", "node=" + p},
                {"etcd-initial-cluster-token", "node-test"},
                {"etcd-name", "node"},
                {"etcd-cert-file", cert.cert.string()},
                {"etcd-key-file", cert.key.string()},
                {"etcd-trusted-ca-file", ca.cert.string()},
                {"etcd-client-cert-auth", "true"},
                {"etcd-peer-cert-file", cert.cert.string()},
                {"etcd-peer-key-file", cert.key.string()},
                {"etcd-peer-trusted-ca-file", ca.cert.string()},
                {"etcd-peer-client-cert-auth", "true"}};
    }
    fs::path write() const {
        spit(dir / "backend.yml", to_yaml(yaml));
        return dir / "backend.yml";
    }
    // A client of this node's API with an admin certificate (the node's own certificate has no role: the
    // API's reads need a reader or admin).
    std::unique_ptr<httplib::Client> admin_api() const {
        const auto admin = issue_test_cert(ca, ca_dir.path(), "admin", {}, "clientAuth", "admin");
        auto api = std::make_unique<httplib::Client>("https://" + yaml.at("api-listen-address"), admin.cert.string(),
                                                     admin.key.string());
        api->set_ca_cert_path(ca.cert.string());
        api->enable_server_certificate_verification(true);
        return api;
    }
};

struct PreflightCase {
    const char* finding;  // the lint code and name the message must carry
    std::function<void(Node&)> break_it;
};

TEST(Preflight, EachFindingStopsTheStartWithItsMessageAndStartsNothing) {
    const std::vector<PreflightCase> cases{
        {"L101 scheme-mismatch", [](Node& n) { n.yaml["etcd-listen-client-urls"] = "http://127.0.0.21:24001"; }},
        {"L103 https-without-cert", [](Node& n) { n.yaml.erase("etcd-cert-file"), n.yaml.erase("etcd-key-file"); }},
        {"L104 san-mismatch",
         [](Node& n) {
             for (auto key : {"etcd-advertise-client-urls", "etcd-listen-client-urls"})
                 n.yaml[key] = "https://127.0.0.22:24001";
         }},
        {"L105 eku-missing",
         [](Node& n) {
             const auto server_only =
                 issue_test_cert(n.ca, n.dir.path(), "server-only", {"127.0.0.21", "127.0.0.1"}, "serverAuth");
             n.yaml["etcd-peer-cert-file"] = server_only.cert.string();
             n.yaml["etcd-peer-key-file"] = server_only.key.string();
         }},
        {"L106 key-mismatch",
         [](Node& n) {
             const auto other =
                 issue_test_cert(n.ca, n.dir.path(), "other", {"127.0.0.21", "127.0.0.1"}, "serverAuth,clientAuth");
             n.yaml["etcd-key-file"] = other.key.string();
         }},
        {"L108 cert-expired",
         [](Node& n) {
             // openssl x509 cannot backdate an end date; our own issuer can, through a profile's window.
             const auto ca = pki::Signer::load(n.ca.cert.string(), n.ca.key.string());
             pki::Profile expired;
             expired.usages = {"digital signature", "server auth", "client auth"};
             expired.not_before = std::chrono::floor<std::chrono::seconds>(pki::Clock::now() - 48h);
             expired.not_after = std::chrono::floor<std::chrono::seconds>(pki::Clock::now() - 24h);
             pki::CertificateRequest req;
             req.cn = "node";
             req.hosts = {"127.0.0.21", "127.0.0.1"};
             Warnings w;
             const auto issued = pki::issue(req, ca, expired, {}, w);
             write_file_atomic(n.dir / "expired.pem", issued.cert, kPublicMode);
             write_file_atomic(n.dir / "expired-key.pem", issued.key, kSecretMode);
             n.yaml["etcd-cert-file"] = (n.dir / "expired.pem").string();
             n.yaml["etcd-key-file"] = (n.dir / "expired-key.pem").string();
         }},
        {"L110 initial-cluster-self",
         [](Node& n) { n.yaml["etcd-initial-cluster"] = "someone-else=https://127.0.0.21:24002"; }},
        {"L114 empty-token", [](Node& n) { n.yaml["etcd-initial-cluster-token"] = ""; }},
        {"L115 key-permissions", [](Node& n) { ::chmod(n.cert.key.c_str(), 0644); }},
        {"L116 file-unreadable", [](Node& n) { n.yaml["etcd-trusted-ca-file"] = (n.dir / "missing-ca.pem").string(); }},
    };
    for (const auto& c : cases) {
        Node node("127.0.0.21");
        c.break_it(node);
        const auto config = node.write();
        const auto r = run({backend(), "start", "--config", config.string()}, {}, {}, 30);
        EXPECT_EQ(r.exit_code, 1) << c.finding << "\n" << r.err;
        EXPECT_NE(r.err.find(c.finding), std::string::npos) << c.finding << " not in:\n" << r.err;
        EXPECT_NE(r.err.find("nothing was started"), std::string::npos) << r.err;
        EXPECT_FALSE(fs::exists(node.dir / "state" / "etcd")) << c.finding << ": etcd data appeared";
        EXPECT_TRUE(etcd_pids_mentioning(node.dir.path().string()).empty());
    }
}

TEST(Preflight, TheGuidesFirstExampleIsRefusedWithAnExplanation) {
    // Verbatim from running-a-sensu-cluster.md (backend-1): https advertised, http listened.
    TempDir dir;
    spit(dir / "backend.yml", R"(##
# store configuration for backend-1/10.0.0.1
##
etcd-advertise-client-urls: "https://10.0.0.1:2379"
etcd-listen-client-urls: "http://10.0.0.1:2379"
etcd-listen-peer-urls: "http://0.0.0.0:2380"
etcd-initial-cluster: "backend-1=http://10.0.0.1:2380,backend-2=http://10.0.0.2:2380,backend-3=http://10.0.0.3:2380"
etcd-initial-advertise-peer-urls: "http://10.0.0.1:2380"
etcd-initial-cluster-state: "new"
etcd-initial-cluster-token: ""
etcd-name: "backend-1"
)");
    const auto r =
        run({backend(), "start", "--config", (dir / "backend.yml").string(), "--state-dir", (dir / "state").string()},
            {}, {}, 30);
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_NE(r.err.find("L101 scheme-mismatch"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("backend.yml:4"), std::string::npos) << "the finding should name the file and line:\n"
                                                              << r.err;
    EXPECT_NE(r.err.find("L114 empty-token"), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(dir / "state" / "etcd"));
}

// Waits (bounded) until `client` gets an answer from /health; false if the process exits first.
bool serving(httplib::Client& client, ChildProcess& process) {
    client.set_connection_timeout(1, 0);
    for (int i = 0; i < 150; ++i) {
        if (auto res = client.Get("/health")) return res->status == 200;
        if (process.wait_exit(0)) return false;
        std::this_thread::sleep_for(100ms);
    }
    return false;
}

TEST(ApiSecurity, WithoutCertFileTheBackendRefusesUnlessPlainHttpIsAskedFor) {
    Node node("127.0.0.21");
    node.yaml.erase("cert-file");
    node.yaml.erase("key-file");
    node.yaml.erase("trusted-ca-file");
    const auto config = node.write();
    const auto r = run({backend(), "start", "--config", config.string()}, {}, {}, 30);
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_NE(r.err.find("trellis-backend: error: " + config.string() +
                         ": L130 api-transport: the backend API would be plain HTTP, open to anyone who reaches it: "
                         "set cert-file and "
                         "key-file (and trusted-ca-file to require client certificates), or api-insecure: true to "
                         "serve plain HTTP on purpose (code 14003)\n"),
              std::string::npos)
        << r.err;
    EXPECT_NE(r.err.find("preflight found 1 problem(s); nothing was started"), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(node.dir / "state" / "etcd"));

    // Half a TLS identity, or TLS and api-insecure together, is refused naming the key at fault.
    const std::vector<std::pair<std::vector<std::string>, std::string>> contradictions{
        {{"--cert-file", node.cert.cert.string()},
         "flag --cert-file: L130 api-transport: cert-file is set but key-file is not"},
        {{"--key-file", node.cert.key.string()},
         "flag --key-file: L130 api-transport: key-file is set but cert-file is not"},
        {{"--cert-file", node.cert.cert.string(), "--key-file", node.cert.key.string(), "--api-insecure"},
         "flag --api-insecure: L130 api-transport: api-insecure is true but cert-file and key-file are set"},
    };
    for (const auto& [flags, message] : contradictions) {
        std::vector<std::string> argv{backend(), "start", "--config", config.string()};
        argv.insert(argv.end(), flags.begin(), flags.end());
        const auto c = run(argv, {}, {}, 30);
        EXPECT_EQ(c.exit_code, 1) << c.err;
        EXPECT_NE(c.err.find(message), std::string::npos) << message << " not in:\n" << c.err;
        EXPECT_FALSE(fs::exists(node.dir / "state" / "etcd"));
    }
}

TEST(ApiSecurity, PlainHttpWhenAskedForIsServedAndLintedAgainstHttpsEtcd) {
    Node node("127.0.0.26", 24020);
    node.yaml.erase("cert-file");
    node.yaml.erase("key-file");
    node.yaml.erase("trusted-ca-file");
    node.yaml["api-insecure"] = "true";
    const auto config = node.write();
    ChildProcess b({backend(), "start", "--config", config.string()}, node.dir / "backend.log");
    httplib::Client api("http://127.0.0.26:24020");
    ASSERT_TRUE(serving(api, b)) << b.log();
    const std::string log = b.log();
    EXPECT_NE(log.find("preflight: " + config.string() + ":"), std::string::npos) << log;
    EXPECT_NE(log.find("L128 api-insecure-with-tls: api-insecure is true while etcd's client URLs are https"),
              std::string::npos)
        << log;
    EXPECT_NE(log.find("is plain HTTP (api-insecure: true)"), std::string::npos) << log;
    b.signal(SIGTERM);
    EXPECT_EQ(b.wait_exit(15), 0) << b.log();
}

TEST(ApiSecurity, CertFileWithoutTrustedCaIsWarnedAndIndeedLetsAnyClientIn) {
    Node node("127.0.0.27", 24030);
    node.yaml.erase("trusted-ca-file");
    const auto config = node.write();
    ChildProcess b({backend(), "start", "--config", config.string()}, node.dir / "backend.log");
    // No client certificate at all: the warning's point.
    httplib::Client anyone("https://127.0.0.27:24030");
    anyone.set_ca_cert_path(node.ca.cert.string());
    anyone.enable_server_certificate_verification(true);
    ASSERT_TRUE(serving(anyone, b)) << b.log();
    auto members = anyone.Get("/api/core/v2/cluster/members");
    ASSERT_TRUE(members);
    EXPECT_EQ(members->status, 200);
    EXPECT_NE(b.log().find("L121 no-client-auth: the API has cert-file but no trusted-ca-file"), std::string::npos)
        << b.log();
    b.signal(SIGTERM);
    EXPECT_EQ(b.wait_exit(15), 0) << b.log();
}

TEST(Config, FlagBeatsEnvironmentBeatsFile) {
    Node node("127.0.0.23");
    node.yaml["log-level"] = "from-file";
    const auto config = node.write();
    const auto file = run({backend(), "start", "--config", config.string()}, {}, {}, 30);
    EXPECT_EQ(file.exit_code, 1);
    EXPECT_NE(file.err.find("\"from-file\""), std::string::npos) << file.err;

    const std::string env_bin = "/usr/bin/env";
    const auto env = run(
        {env_bin, "TRELLIS_BACKEND_LOG_LEVEL=from-env", backend(), "start", "--config", config.string()}, {}, {}, 30);
    EXPECT_NE(env.err.find("\"from-env\""), std::string::npos) << env.err;

    const auto flag = run({env_bin, "TRELLIS_BACKEND_LOG_LEVEL=from-env", backend(), "start", "--config",
                           config.string(), "--log-level", "from-flag"},
                          {}, {}, 30);
    EXPECT_NE(flag.err.find("\"from-flag\""), std::string::npos) << flag.err;

    const auto typo = run({backend(), "start", "--config", config.string(), "--etcd-nam", "x"}, {}, {}, 30);
    EXPECT_EQ(typo.exit_code, 2) << typo.err;
    const auto missing = run({backend(), "start", "--config", (node.dir / "nope.yml").string()}, {}, {}, 30);
    EXPECT_EQ(missing.exit_code, 1);
    EXPECT_NE(missing.err.find("nope.yml"), std::string::npos) << missing.err;
}

TEST(Cli, VersionAndHelpTeach) {
    const auto v = run({backend(), "version"});
    EXPECT_EQ(v.exit_code, 0);
    EXPECT_EQ(v.out, "trellis-backend version 0.1.0\n");
    const auto h = run({backend(), "start", "--help"});
    EXPECT_EQ(h.exit_code, 0);
    for (const char* must : {"--etcd-name", "--etcd-initial-cluster", "--no-embed-etcd", "--etcd-peer-client-cert-auth",
                             "TRELLIS_BACKEND_ETCD_NAME", "Examples:", "--etcd-binary"})
        EXPECT_NE(h.out.find(must), std::string::npos) << must;
}

TEST(Supervision, WhenEtcdDiesTheBackendReportsItsLastLinesAndExitsNonZero) {
    Node node("127.0.0.24");
    const auto config = node.write();
    ChildProcess b({backend(), "start", "--config", config.string(), "--log-level", "info"}, node.dir / "backend.log");
    std::vector<pid_t> etcd;
    const auto client = node.admin_api();
    httplib::Client& api = *client;
    api.set_connection_timeout(1, 0);
    bool up = false;
    for (int i = 0; i < 150 && !up; ++i) {
        auto res = api.Get("/health");
        up = res && res->status == 200;
        if (!up) std::this_thread::sleep_for(100ms);
    }
    ASSERT_TRUE(up) << b.log();
    // The API answers while etcd starts, so /health can say 200 a poll before the backend itself sees etcd
    // serve; only after that is a death "etcd died" rather than "etcd failed to start".
    for (int i = 0; i < 100 && b.log().find("is ready (pid ") == std::string::npos; ++i)
        std::this_thread::sleep_for(50ms);
    EXPECT_TRUE(fs::exists(node.dir / "state" / "trellis-cluster.json"));
    etcd = etcd_pids_mentioning(node.dir.path().string());
    ASSERT_EQ(etcd.size(), 1u);
    ::kill(etcd[0], SIGKILL);
    EXPECT_EQ(b.wait_exit(10), 1) << b.log();
    const std::string log = b.log();
    EXPECT_NE(log.find("etcd died: it was killed by signal 9"), std::string::npos) << log;
    EXPECT_NE(log.find("its last lines:"), std::string::npos) << log;
}

// Under a Type=notify unit (dist/trellis-backend.service): READY=1 only once etcd serves and the API
// listens, so units ordered after it find a working node; STOPPING=1 on SIGTERM.
TEST(Supervision, TellsSystemdItIsReadyOnceTheApiListensAndWhenItStops) {
    Node node("127.0.0.28");
    const auto config = node.write();
    const fs::path socket_path = node.dir / "notify.sock";
    const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(fd, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    ASSERT_LT(socket_path.string().size(), sizeof addr.sun_path);
    std::strcpy(addr.sun_path, socket_path.c_str());
    ASSERT_EQ(::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr), 0);
    const auto receive = [fd](int seconds) {
        pollfd p{fd, POLLIN, 0};
        char buf[512];
        if (::poll(&p, 1, seconds * 1000) != 1) return std::string();
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
    };
    ChildProcess b({backend(), "start", "--config", config.string()}, node.dir / "backend.log",
                   {"NOTIFY_SOCKET=" + socket_path.string()});
    const std::string ready = receive(60);
    EXPECT_EQ(ready, "READY=1\nSTATUS=serving the API on 127.0.0.28:24000") << b.log();
    const auto client = node.admin_api();
    httplib::Client& api = *client;
    const auto health = api.Get("/health");
    ASSERT_TRUE(health) << "READY=1 came before the API answered";
    EXPECT_EQ(health->status, 200);
    b.signal(SIGTERM);
    EXPECT_EQ(receive(10), "STOPPING=1");
    EXPECT_EQ(b.wait_exit(15), 0) << b.log();
    ::close(fd);
}

// The API listens while etcd starts, so an operator (or a load balancer) asking during a long start gets
// 503 and the reason instead of a refused connection; systemd still hears READY=1 only once etcd serves.
TEST(Supervision, AnswersNotReadyWithTheReasonWhileEtcdCannotServeYet) {
    Node node("127.0.0.29", 24040);
    // A second initial member that never starts: this one can never reach a quorum.
    node.yaml["etcd-initial-cluster"] = "node=https://127.0.0.29:24042,absent=https://127.0.0.29:24052";
    const auto config = node.write();
    ChildProcess b({backend(), "start", "--config", config.string()}, node.dir / "backend.log");
    const auto client = node.admin_api();
    httplib::Client& api = *client;
    api.set_read_timeout(10, 0);
    auto health = api.Get("/health?timeout=1");
    for (int i = 0; i < 100 && !health; ++i) {
        std::this_thread::sleep_for(50ms);
        health = api.Get("/health?timeout=1");
    }
    ASSERT_TRUE(health) << "the API never listened while etcd was starting\n" << b.log();
    EXPECT_EQ(health->status, 503) << health->body;
    const auto readyz = api.Get("/readyz");
    ASSERT_TRUE(readyz);
    EXPECT_EQ(readyz->status, 503) << readyz->body;
    EXPECT_FALSE(nlohmann::json::parse(readyz->body).value("Reason", "").empty()) << readyz->body;
    EXPECT_EQ(b.log().find("is ready (pid "), std::string::npos) << b.log();
    b.signal(SIGTERM);
    EXPECT_EQ(b.wait_exit(20), 0) << b.log();
}

// Issue 13's logs: with log-format json every line on stderr is one JSON object, etcd's own lines stay
// etcd's with "source": "etcd", and at the default level the node says what it is, where, which etcd,
// who leads, and who changed membership.
TEST(Logs, AsJsonEveryLineIsAnObjectAndSaysWhatRunsAndWhoChangedWhat) {
    Node node("127.0.0.29");
    node.yaml["log-format"] = "json";
    node.yaml["etcd-log-level"] = "info";  // so etcd has lines of its own to pass through
    const auto config = node.write();
    ChildProcess b({backend(), "start", "--config", config.string()}, node.dir / "backend.log");
    const auto client = node.admin_api();
    httplib::Client& api = *client;
    ASSERT_TRUE(wait_healthy(api, 1, std::chrono::seconds(60))) << b.log();
    const auto list = api.Get("/api/core/v2/cluster/members");
    ASSERT_TRUE(list && list->status == 200) << b.log();
    const std::uint64_t id = nlohmann::json::parse(list->body)["members"][0]["ID"].get<std::uint64_t>();
    const std::string hex = store::hex_id(id);
    const auto put =
        api.Put("/api/core/v2/cluster/members/" + hex + "?peer-addrs=https://127.0.0.29:24002", "", "text/plain");
    ASSERT_TRUE(put && put->status == 200) << (put ? put->body : httplib::to_string(put.error()));
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // a promoter round: the leader line
    b.signal(SIGTERM);
    ASSERT_EQ(b.wait_exit(15), 0) << b.log();

    std::map<std::string, int> by_source;
    std::vector<std::string> ours;
    std::istringstream lines(b.log());
    for (std::string line; std::getline(lines, line);) {
        if (line.empty()) continue;
        const auto doc = nlohmann::json::parse(line, nullptr, false);
        ASSERT_TRUE(doc.is_object()) << "not a JSON object: " << line;
        ASSERT_TRUE(doc.contains("msg") && doc.contains("level") && doc.contains("source")) << line;
        ++by_source[doc["source"].get<std::string>()];
        if (doc["source"] == "trellis-backend") ours.push_back(doc["msg"].get<std::string>());
    }
    EXPECT_GT(by_source["etcd"], 0) << b.log();
    EXPECT_EQ(by_source.size(), 2u) << b.log();
    const auto said = [&ours](const std::string& part) {
        return std::any_of(ours.begin(), ours.end(), [&](const std::string& m) { return contains(m, part); });
    };
    EXPECT_TRUE(said("trellis-backend " + std::string(cli::version()) + " starting: config " + config.string()))
        << b.log();
    EXPECT_TRUE(said("etcd member node on client URLs https://127.0.0.29:24001")) << b.log();
    EXPECT_TRUE(said("is ready (pid ")) << b.log();
    EXPECT_TRUE(said("etcd leader is " + hex + " (node), this node, term ")) << b.log();
    EXPECT_TRUE(said("updated member " + hex + " to peer URLs https://127.0.0.29:24002 by CN=admin (serial " +
                     pki::Certificate::from_pem(read_file(node.ca_dir / "admin.pem"), "admin").serial_decimal() + ")"))
        << b.log();
}

TEST(Supervision, StateDirOfAnotherClusterIsRefusedAtOnce) {
    Node node("127.0.0.25");
    fs::create_directories(node.dir / "state" / "etcd" / "member");
    spit(
        node.dir / "state" / "trellis-cluster.json",
        R"({"etcd-initial-cluster":"old=https://127.0.0.25:24002","etcd-initial-cluster-token":"old","etcd-name":"old"})");
    node.yaml["etcd-initial-cluster-token"] = "node-test";
    const auto config = node.write();
    const auto t0 = std::chrono::steady_clock::now();
    const auto r = run({backend(), "start", "--config", config.string(), "--etcd-ready-timeout", "5"}, {}, {}, 30);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s) << "not refused at once";
    EXPECT_EQ(r.exit_code, 1) << r.err;
    // The other keys are still warned about; the token decides, in one line naming the state dir and the way out.
    EXPECT_NE(r.err.find("already holds etcd data of a different cluster"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("trellis-backend: error: state-dir " + (node.dir / "state").string() +
                         " holds the data of another cluster (etcd-initial-cluster-token \"old\", this config says "
                         "\"node-test\"): start with another --state-dir"),
              std::string::npos)
        << r.err;
    EXPECT_TRUE(etcd_pids_mentioning(node.dir.path().string()).empty());
}

// Run as another user (nobody), a root-owned state dir is named with its owner, its mode and the fix,
// before etcd starts (etcd itself would say "unexpected internal error ... please report this").
TEST(Supervision, AStateDirThisUserMayNotUseIsNamedWithTheFix) {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root to run the backend as another user";
    constexpr uid_t kNobody = 65534;
    Node node("127.0.0.26");
    const fs::path state = node.dir / "state";
    fs::create_directories(state / "etcd" / "member");
    fs::permissions(state, fs::perms::owner_all);
    for (const auto& d : {node.dir.path(), node.ca_dir.path()})
        fs::permissions(d, fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
    for (const auto& f : {node.cert.cert, node.cert.key}) ASSERT_EQ(::chown(f.c_str(), kNobody, kNobody), 0);
    ::chmod(node.ca.cert.c_str(), 0644);
    const auto config = node.write();
    ::chmod(config.c_str(), 0644);
    const auto r = run({"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", backend(), "start", "--config",
                        config.string(), "--etcd-ready-timeout", "5"},
                       {}, {}, 30);
    EXPECT_NE(r.exit_code, 0) << r.err;
    EXPECT_NE(r.err.find(state.string() + ": permission denied for uid 65534 (owner uid 0, mode 0700)"),
              std::string::npos)
        << r.err;
    EXPECT_NE(r.err.find("chown -R <user> <state-dir>"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("please report this"), std::string::npos) << r.err;
    EXPECT_TRUE(etcd_pids_mentioning(node.dir.path().string()).empty());
}

TEST(ExternalStore, ABackendWithNoEmbedEtcdJoinsThreePlainEtcds) {
    TempDir dir;
    const std::string cluster = "x1=http://127.0.0.31:24012,x2=http://127.0.0.32:24012,x3=http://127.0.0.33:24012";
    std::vector<std::unique_ptr<TestEtcd>> etcds;
    std::string clients;
    for (const auto& [name, ip] : {std::pair{"x1", "127.0.0.31"}, {"x2", "127.0.0.32"}, {"x3", "127.0.0.33"}}) {
        TestEtcdSpec spec;
        spec.name = name;
        spec.ip = ip;
        spec.client_port = 24011;
        spec.peer_port = 24012;
        spec.initial_cluster = cluster;
        spec.token = "external-test";
        etcds.push_back(std::make_unique<TestEtcd>(dir.path() / name, spec));
        etcds.back()->start();
        clients += (clients.empty() ? "" : ",") + etcds.back()->client_url();
    }
    for (auto& e : etcds) e->wait_ready();
    ChildProcess b({backend(), "start", "--config", (dir / "none.yml").string(), "--no-embed-etcd",
                    "--etcd-client-urls", clients, "--api-listen-address", "127.0.0.34:24010", "--api-insecure",
                    "--state-dir", (dir / "state").string(), "--log-level", "info"},
                   dir / "backend.log");
    spit(dir / "none.yml", "# everything on the command line\n");
    httplib::Client api("http://127.0.0.34:24010");
    api.set_connection_timeout(1, 0);
    int status = 0;
    std::string body;
    for (int i = 0; i < 100 && status != 200; ++i) {
        if (auto res = api.Get("/health")) status = res->status, body = res->body;
        if (status != 200) std::this_thread::sleep_for(100ms);
    }
    ASSERT_EQ(status, 200) << b.log();
    EXPECT_EQ(nlohmann::json::parse(body)["ClusterHealth"].size(), 3u);
    EXPECT_NE(b.log().find("is plain HTTP (api-insecure: true)"), std::string::npos) << "no warning about it";
    EXPECT_TRUE(etcd_pids_mentioning((dir / "state").string()).empty()) << "the backend started its own etcd";
    b.signal(SIGTERM);
    EXPECT_EQ(b.wait_exit(10), 0);

    const auto r =
        run({backend(), "start", "--no-embed-etcd", "--etcd-client-urls", "http://127.0.0.31:24099",
             "--api-listen-address", "127.0.0.34:24010", "--api-insecure", "--state-dir", (dir / "state").string()},
            {}, {}, 30);
    EXPECT_EQ(r.exit_code, 3) << r.err;
    EXPECT_NE(r.err.find("cannot use the external etcd cluster"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("connection refused"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace trellis::testing
