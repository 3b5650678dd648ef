// Live reload on one real node (127.0.0.151, standard ports; the address is this test's own):
// certificate files replaced under a running trellis-backend are served from the next handshake
// on every port it owns, with no restart. The API reloads its certificate, key and CRL
// (backend/tls_reload.cpp); etcd reloads its own cert and key per handshake, which this checks too.
#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <thread>

#include "backend_fixture.hpp"
#include "core/files.hpp"
#include "core/url.hpp"
#include "pki/certificate.hpp"
#include "pki/issue.hpp"
#include "store/tls_diagnosis.hpp"
#include "support.hpp"
#include "test_pki.hpp"

namespace trellis::testing {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

constexpr const char* kIp = "127.0.0.151";

// The serial a port serves now, from a handshake of its own ("" and the reason when none came).
std::string served_serial(int port, const TestPair* client = nullptr) {
    store::ProbeOptions probe;
    if (client) probe.cert_file = client->cert.string(), probe.key_file = client->key.string();
    probe.timeout = 2000ms;
    const auto served = store::served_certificate(
        parse_url("https://" + std::string(kIp) + ":" + std::to_string(port), UrlKind::Client, "test"), probe);
    if (served.pem.empty()) return "none: " + served.error;
    return pki::Certificate::from_pem(served.pem, "served").serial_decimal();
}

// A CRL of `ca` revoking `serials`, DER as `certgen gencrl | base64 -d` writes it.
void write_crl(const TestCa& ca, const std::vector<std::string>& serials, const fs::path& to) {
    const auto signer = pki::Signer::load(ca.cert.string(), ca.key.string());
    TempDir tmp;
    spit(tmp / "crl.b64", pki::generate_crl(serials, signer, pki::Duration(24h)));
    const auto r = run({"openssl", "base64", "-d", "-A", "-in", "crl.b64", "-out", "crl.der"}, {}, tmp.path());
    ASSERT_EQ(r.exit_code, 0) << r.err;
    fs::rename(tmp / "crl.der", to);
}

// GET /health as `client`: the status, or 0 when the TLS exchange failed.
int health_as(const TestCa& ca, const TestPair& client) {
    httplib::SSLClient c(kIp, 8080, client.cert.string(), client.key.string());
    c.set_ca_cert_path(ca.cert.c_str());
    c.enable_server_certificate_verification(true);
    c.set_connection_timeout(2, 0);
    c.set_read_timeout(5, 0);
    auto res = c.Get("/health");
    return res ? res->status : 0;
}

struct ReloadNode {
    TempDir ca_dir, dir;
    TestCa ca = make_test_ca(ca_dir.path(), "ca");
    TestPair node = issue_test_cert(ca, dir.path(), "node", {kIp, "127.0.0.1"}, "serverAuth,clientAuth");
    TestPair api = issue_test_cert(ca, dir.path(), "api", {kIp, "127.0.0.1"}, "serverAuth");
    TestPair admin = issue_test_cert(ca, ca_dir.path(), "admin", {}, "clientAuth", "admin");
    TestPair admin2 = issue_test_cert(ca, ca_dir.path(), "admin2", {}, "clientAuth", "admin");
    fs::path crl = dir / "ca.crl";

    fs::path write_config() {
        write_crl(ca, {}, crl);
        const std::string c = std::string("https://") + kIp + ":2379", p = std::string("https://") + kIp + ":2380";
        std::string yaml;
        for (const auto& [k, v] :
             std::vector<std::pair<std::string, std::string>>{{"state-dir", (dir / "state").string()},
                                                              {"api-listen-address", std::string(kIp) + ":8080"},
                                                              {"cert-file", api.cert.string()},
                                                              {"key-file", api.key.string()},
                                                              {"trusted-ca-file", ca.cert.string()},
                                                              {"crl-file", crl.string()},
                                                              {"etcd-advertise-client-urls", c},
                                                              {"etcd-listen-client-urls", c},
                                                              {"etcd-listen-peer-urls", p},
                                                              {"etcd-initial-advertise-peer-urls", p},
                                                              {"etcd-initial-cluster", "reload=" + p},
                                                              {"etcd-initial-cluster-token", "reload-test"},
                                                              {"etcd-name", "reload"},
                                                              {"etcd-cert-file", node.cert.string()},
                                                              {"etcd-key-file", node.key.string()},
                                                              {"etcd-trusted-ca-file", ca.cert.string()},
                                                              {"etcd-client-cert-auth", "true"},
                                                              {"etcd-peer-cert-file", node.cert.string()},
                                                              {"etcd-peer-key-file", node.key.string()},
                                                              {"etcd-peer-trusted-ca-file", ca.cert.string()},
                                                              {"etcd-peer-client-cert-auth", "true"}})
            yaml += k + ": \"" + v + "\"\n";
        spit(dir / "backend.yml", yaml);
        return dir / "backend.yml";
    }
};

bool serving(const ReloadNode& n, ChildProcess& process) {
    for (int i = 0; i < 300; ++i) {
        if (health_as(n.ca, n.admin) == 200) return true;
        if (process.wait_exit(0)) return false;
        std::this_thread::sleep_for(100ms);
    }
    return false;
}

TEST(LiveReload, RenewedFilesAreServedOnEveryPortWithNoRestart) {
    ReloadNode n;
    const auto config = n.write_config();
    ChildProcess backend(
        {build_path("backend/trellis-backend").string(), "start", "--config", config.string(), "--log-level", "info"},
        n.dir / "backend.log");
    ASSERT_TRUE(serving(n, backend)) << backend.log_tail();
    const auto etcd_before = etcd_pids_mentioning(n.dir.path().string());
    ASSERT_EQ(etcd_before.size(), 1u);
    EXPECT_EQ(served_serial(8080), serial_of(n.api.cert));
    for (int port : {2379, 2380}) EXPECT_EQ(served_serial(port), serial_of(n.node.cert)) << "port " << port;

    // Renew both pairs: key first, then certificate, each by rename as cluster-config writes them.
    const auto node2 = issue_test_cert(n.ca, n.ca_dir.path(), "node2", {kIp, "127.0.0.1"}, "serverAuth,clientAuth");
    const auto api2 = issue_test_cert(n.ca, n.ca_dir.path(), "api2", {kIp, "127.0.0.1"}, "serverAuth");
    const std::string node_serial = serial_of(node2.cert), api_serial = serial_of(api2.cert);
    ASSERT_NE(node_serial, serial_of(n.node.cert));
    for (const auto& [from, to] :
         {std::pair{node2.key, n.node.key}, {node2.cert, n.node.cert}, {api2.key, n.api.key}, {api2.cert, n.api.cert}})
        fs::rename(from, to);
    EXPECT_EQ(served_serial(8080), api_serial);
    // The peer port is read without a client certificate: etcd refuses us, after sending its own.
    for (int port : {2379, 2380}) EXPECT_EQ(served_serial(port), node_serial) << "port " << port;
    EXPECT_EQ(health_as(n.ca, n.admin), 200);
    EXPECT_FALSE(backend.wait_exit(0));
    EXPECT_EQ(etcd_pids_mentioning(n.dir.path().string()), etcd_before) << "etcd must not restart";
    EXPECT_NE(backend.log().find("API TLS files reloaded: serving " + n.api.cert.string()), std::string::npos)
        << backend.log_tail();

    // Revoke admin: the API refuses it from the next handshake on, and still serves admin2.
    write_crl(n.ca, {serial_of(n.admin.cert)}, n.dir / "new.crl");
    fs::rename(n.dir / "new.crl", n.crl);
    EXPECT_EQ(health_as(n.ca, n.admin), 0);
    EXPECT_EQ(health_as(n.ca, n.admin2), 200);

    // A key that is not the certificate's is refused with a log line; the renewed pair stays served.
    const auto stray = issue_test_cert(n.ca, n.ca_dir.path(), "stray", {kIp}, "serverAuth");
    fs::copy_file(stray.key, n.api.key, fs::copy_options::overwrite_existing);
    EXPECT_EQ(served_serial(8080), api_serial);
    EXPECT_EQ(health_as(n.ca, n.admin2), 200);
    EXPECT_NE(backend.log().find("API TLS files changed but were not taken"), std::string::npos) << backend.log_tail();
    EXPECT_FALSE(backend.wait_exit(0));
}

TEST(Preflight, AnExpiredCertificateIsRefusedInOneLineNamingTheFileAndTheDate) {
    ReloadNode n;
    // openssl x509 cannot backdate an end date; our own issuer can, through a profile's window.
    const auto ca = pki::Signer::load(n.ca.cert.string(), n.ca.key.string());
    pki::Profile expired;
    expired.usages = {"digital signature", "server auth", "client auth"};
    expired.not_before = std::chrono::floor<std::chrono::seconds>(pki::Clock::now() - 48h);
    expired.not_after = std::chrono::floor<std::chrono::seconds>(pki::Clock::now() - 24h);
    pki::CertificateRequest req;
    req.cn = "reload";
    req.hosts = {kIp, "127.0.0.1"};
    Warnings w;
    const auto issued = pki::issue(req, ca, expired, {}, w);
    write_file_atomic(n.node.cert, issued.cert, kPublicMode);
    write_file_atomic(n.node.key, issued.key, kSecretMode);
    const auto config = n.write_config();
    const auto r =
        run({build_path("backend/trellis-backend").string(), "start", "--config", config.string()}, {}, {}, 30);
    EXPECT_EQ(r.exit_code, 1) << r.err;
    const std::string date = utc_text(*expired.not_after);
    std::string line;
    for (std::size_t at = 0, nl; (nl = r.err.find('\n', at)) != std::string::npos; at = nl + 1)
        if (const auto l = r.err.substr(at, nl - at); l.find("L108") != std::string::npos) line = l;
    EXPECT_NE(line.find(n.node.cert.string() + " (reload) expired on " + date), std::string::npos)
        << "one line naming the file and the date:\n"
        << r.err;
    EXPECT_FALSE(fs::exists(n.dir / "state" / "etcd")) << "nothing may start";
}

}  // namespace
}  // namespace trellis::testing
