// The API client's transport against real TLS servers (cpp-httplib's, in process, on 127.0.0.61-66):
// mutual TLS, failover to the next URL, and each way a connection can be refused explained.
#include "client.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>

#include <httplib.h>

#include "core/cli.hpp"
#include "core/error.hpp"
#include "server_thread.hpp"
#include "support.hpp"
#include "test_pki.hpp"

namespace trellis::ctl {
namespace {

std::string tls(const std::string& name) { return trellis::testing::data_path("ctl/tls/" + name).string(); }

// The test routes on a server of its own thread, stopped and joined when the guard goes away.
class Running {
  public:
    Running(std::unique_ptr<httplib::Server> server, const std::string& host)
        : thread_(with_routes(std::move(server)), host), url(thread_.url("https")) {}
    std::atomic<int> posts{0};

  private:
    std::unique_ptr<httplib::Server> with_routes(std::unique_ptr<httplib::Server> server) {
        server->Get("/ping", [](const httplib::Request&, httplib::Response& res) {
            res.set_content(R"({"pong":true})", "application/json");
        });
        server->Get("/busy", [](const httplib::Request&, httplib::Response& res) {
            res.status = 503;
            res.set_content(R"({"code":15001,"message":"etcd unreachable"})", "application/json");
        });
        server->Post("/count", [this](const httplib::Request&, httplib::Response& res) {
            ++posts;
            res.status = 201;
            res.set_content("{}", "application/json");
        });
        return server;
    }
    trellis::testing::ServerThread thread_;

  public:
    const std::string url;
};

std::unique_ptr<httplib::Server> mtls_server() {
    auto s = std::make_unique<httplib::SSLServer>(tls("server.pem").c_str(), tls("server-key.pem").c_str(),
                                                  tls("ca.pem").c_str());
    if (!s->is_valid()) throw std::runtime_error("SSLServer not valid");
    return s;
}

Settings settings(std::vector<std::string> urls, const std::string& ca = "ca.pem",
                  const std::string& cert = "admin.pem", const std::string& key = "admin-key.pem") {
    Settings s;
    s.urls = std::move(urls);
    s.trusted_ca_file = tls(ca);
    s.cert_file = tls(cert);
    s.key_file = tls(key);
    s.timeout_ms = 3000;
    s.origins = {{Key::Url, "--url"},
                 {Key::TrustedCaFile, "--trusted-ca-file"},
                 {Key::CertFile, "--cert-file"},
                 {Key::KeyFile, "--key-file"},
                 {Key::Timeout, "default"}};
    return s;
}

struct Outcome {
    int exit_code = 0;
    std::string message;
    std::vector<std::string> warnings;
    Response response;
};

Outcome send(const Settings& s, Method method = Method::Get, const std::string& target = "/ping", bool insecure = false,
             const std::function<bool(const Response&)>& accept = {}) {
    Outcome out;
    const ApiClient client(s, insecure, [&](const std::string& w) { out.warnings.push_back(w); });
    try {
        out.response = client.send(method, target, accept);
    } catch (const Error& e) {
        out.exit_code = cli::exit_code_for(e);
        out.message = e.what();
    }
    return out;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

constexpr const char* kNobody = "https://127.0.0.62:1";  // nothing listens on port 1

TEST(ApiClient, MutualTlsRoundTrip) {
    Running server(mtls_server(), "127.0.0.61");
    const Outcome o = send(settings({server.url}));
    ASSERT_EQ(o.exit_code, 0) << o.message;
    EXPECT_EQ(o.response.status, 200);
    EXPECT_EQ(o.response.body, R"({"pong":true})");
    EXPECT_EQ(o.response.url, server.url);
    EXPECT_TRUE(o.warnings.empty());
}

TEST(ApiClient, RefusedConnectionIsExitThreeAndNamesTheUrl) {
    const Outcome o = send(settings({kNobody}));
    EXPECT_EQ(o.exit_code, 3);
    EXPECT_EQ(o.message,
              std::string("cannot reach the backend: ") + kNobody + ": connection refused or host unreachable");
}

TEST(ApiClient, NextUrlIsTriedWhenOneIsDown) {
    Running server(mtls_server(), "127.0.0.61");
    const Outcome o = send(settings({kNobody, server.url}));
    ASSERT_EQ(o.exit_code, 0) << o.message;
    EXPECT_EQ(o.response.url, server.url);
    ASSERT_EQ(o.warnings.size(), 1u);
    EXPECT_TRUE(contains(o.warnings[0], kNobody)) << o.warnings[0];
    EXPECT_TRUE(contains(o.warnings[0], "trying the next URL")) << o.warnings[0];
}

TEST(ApiClient, EveryUrlDownListsEachReason) {
    const Outcome o = send(settings({kNobody, "https://127.0.0.63:1"}));
    EXPECT_EQ(o.exit_code, 3);
    EXPECT_TRUE(contains(o.message, "no backend answered: https://127.0.0.62:1: connection refused")) << o.message;
    EXPECT_TRUE(contains(o.message, "; https://127.0.0.63:1: connection refused")) << o.message;
}

TEST(ApiClient, ServerNotTrustedByOurCaIsOurSideRefusing) {
    Running server(mtls_server(), "127.0.0.61");
    const Outcome o = send(settings({server.url}, "other-ca.pem"));
    EXPECT_EQ(o.exit_code, 3);
    EXPECT_TRUE(contains(o.message, "we do not trust the server's certificate")) << o.message;
    EXPECT_TRUE(contains(o.message, "trusted-ca-file " + tls("other-ca.pem") + ", from --trusted-ca-file"))
        << o.message;
}

TEST(ApiClient, ClientCertOfAnotherCaIsTheServerRefusing) {
    Running server(mtls_server(), "127.0.0.61");
    const Outcome o = send(settings({server.url}, "ca.pem", "stranger.pem", "stranger-key.pem"));
    EXPECT_EQ(o.exit_code, 3);
    // The server's alert ("unknown ca") and our own look at the certificate agree; ours names the file.
    EXPECT_TRUE(contains(o.message,
                         "the server refused our client certificate: it is not signed by the CA in " + tls("ca.pem")))
        << o.message;
    EXPECT_TRUE(contains(o.message, "(TLS: tlsv1 alert unknown ca)")) << o.message;
    EXPECT_TRUE(contains(o.message, "cert-file " + tls("stranger.pem"))) << o.message;
}

// OpenSSL answers a client certificate that is not valid yet with "bad certificate", which used to be
// explained as wrong key usage: the certificate's own dates say what is wrong.
TEST(ApiClient, NotYetValidClientCertificateIsNamedAsSuch) {
    trellis::testing::TempDir dir;
    const auto ca = trellis::testing::make_test_ca(dir.path(), "ca");
    const auto server = trellis::testing::issue_test_cert(ca, dir.path(), "server", {"127.0.0.66"}, "serverAuth");
    const auto early =
        trellis::testing::issue_future_test_cert(ca, dir.path(), "early", "clientAuth", "20300101000000Z");
    Running api(std::make_unique<httplib::SSLServer>(server.cert.c_str(), server.key.c_str(), ca.cert.c_str()),
                "127.0.0.66");
    Settings s = settings({api.url});
    s.trusted_ca_file = ca.cert.string();
    s.cert_file = early.cert.string();
    s.key_file = early.key.string();
    const Outcome o = send(s);
    EXPECT_EQ(o.exit_code, 3);
    EXPECT_TRUE(contains(o.message,
                         "the server refused our client certificate: it is not valid yet (valid from "
                         "2030-01-01 00:00:00 UTC"))
        << o.message;
    EXPECT_FALSE(contains(o.message, "key usage")) << o.message;
}

TEST(ApiClient, ServerCertificateNotNamingTheHostIsRefused) {
    Running server(mtls_server(), "127.0.0.65");  // server.pem names 127.0.0.61-64 only
    const Outcome o = send(settings({server.url}));
    EXPECT_EQ(o.exit_code, 3);
    EXPECT_TRUE(contains(o.message, "does not name this host")) << o.message;
}

TEST(ApiClient, PlainHttpServerOnAnHttpsUrlIsExplained) {
    Running server(std::make_unique<httplib::Server>(), "127.0.0.66");
    const Outcome o = send(settings({server.url}));
    EXPECT_EQ(o.exit_code, 3);
    // Whatever OpenSSL made of the server's answer: the port answers plain HTTP.
    EXPECT_TRUE(contains(o.message, server.url + ": the server does not speak TLS on this port: it answers plain HTTP"))
        << o.message;
}

TEST(ApiClient, InsecureSkipVerifyWarnsAndStillSendsOurCertificate) {
    Running server(mtls_server(), "127.0.0.61");
    const Outcome o = send(settings({server.url}, "other-ca.pem"), Method::Get, "/ping", true);
    ASSERT_EQ(o.exit_code, 0) << o.message;
    ASSERT_EQ(o.warnings.size(), 1u);
    EXPECT_TRUE(contains(o.warnings[0], "NOT verified")) << o.warnings[0];
}

TEST(ApiClient, UnreadableClientFilesAreNamedWithTheirOrigin) {
    Settings s = settings({kNobody});
    s.cert_file = "/nonexistent/admin.pem";
    const Outcome o = send(s);
    EXPECT_EQ(o.exit_code, 1);
    EXPECT_EQ(o.message.rfind("cert-file (from --cert-file): ", 0), 0u) << o.message;
    EXPECT_TRUE(contains(o.message, "/nonexistent/admin.pem")) << o.message;
}

// A key that is not the certificate's is the user's own mistake, found before connecting (issue 9):
// exit 1 naming both files, not exit 3 "cannot connect".
TEST(ApiClient, KeyNotMatchingCertificateIsReported) {
    const Outcome o = send(settings({kNobody}, "ca.pem", "admin.pem", "stranger-key.pem"));
    EXPECT_EQ(o.exit_code, 1);
    EXPECT_TRUE(contains(o.message, "does not belong to cert-file")) << o.message;
}

TEST(ApiClient, RejectedAnswerMovesOnAndTheLastAnswerIsKept) {
    Running a(mtls_server(), "127.0.0.61");
    Running b(mtls_server(), "127.0.0.64");
    const auto not_busy = [](const Response& r) { return r.status != 503; };
    const Outcome o = send(settings({a.url, b.url}), Method::Get, "/busy", false, not_busy);
    ASSERT_EQ(o.exit_code, 0) << o.message;
    EXPECT_EQ(o.response.status, 503);
    EXPECT_EQ(o.response.url, b.url);
    EXPECT_EQ(o.warnings.size(), 1u);
    const Error e = api_error(o.response);
    EXPECT_EQ(e.code(), Code::StoreUnavailable);
    EXPECT_EQ(std::string(e.what()), b.url + ": etcd unreachable (HTTP 503, error 15001 StoreUnavailable)");
}

TEST(ApiClient, MutationIsSentOnceWhenTheFirstBackendAnswers) {
    Running a(mtls_server(), "127.0.0.61");
    Running b(mtls_server(), "127.0.0.64");
    const Outcome o = send(settings({a.url, b.url}), Method::Post, "/count");
    ASSERT_EQ(o.exit_code, 0) << o.message;
    EXPECT_EQ(o.response.status, 201);
    EXPECT_EQ(a.posts.load() + b.posts.load(), 1);
}

TEST(ApiErrors, TheBackendsCodeAndMessageAreShown) {
    const Error e = api_error({404, R"({"code":15004,"message":"member 2f7ae42c315f8c2d not found"})", "https://h:1"});
    EXPECT_EQ(e.code(), Code::MemberNotFound);
    EXPECT_EQ(cli::exit_code_for(e), 1);
    EXPECT_EQ(std::string(e.what()),
              "https://h:1: member 2f7ae42c315f8c2d not found (HTTP 404, error 15004 MemberNotFound)");
    const Error quorum = api_error(
        {409, R"({"code":15002,"message":"etcdserver: re-configuration failed due to not enough started members"})",
         "https://h:1"});
    EXPECT_EQ(quorum.code(), Code::StoreRequestFailed);
    EXPECT_EQ(cli::exit_code_for(quorum), 1);
    EXPECT_TRUE(contains(quorum.what(), "not enough started members (HTTP 409, error 15002 StoreRequestFailed)"));
}

TEST(ApiErrors, CodesThatWouldChangeTheExitStatusStayHttpError) {
    // The backend reached us; its own trouble reaching etcd is not our connection failure (exit 3),
    // and its usage error about a request we built is not the user's command line (exit 2).
    const Error e = api_error({503, R"({"code":16001,"message":"dial tcp 127.0.0.12:2379: refused"})", "u"});
    EXPECT_EQ(e.code(), Code::HttpError);
    EXPECT_EQ(std::string(e.what()), "u: dial tcp 127.0.0.12:2379: refused (HTTP 503, error 16001 ConnectFailed)");
    EXPECT_EQ(api_error({404, R"({"code":12006,"message":"no such endpoint"})", "u"}).code(), Code::HttpError);
    EXPECT_EQ(std::string(api_error({500, R"({"code":77,"message":"new"})", "u"}).what()),
              "u: new (HTTP 500, error 77 unknown)");
}

TEST(ApiErrors, OtherBodiesGiveTheirFirstLine) {
    EXPECT_EQ(std::string(api_error({500, "oops\nmore", "u"}).what()), "u: oops (HTTP 500)");
    EXPECT_EQ(std::string(api_error({502, "", "u"}).what()), "u: the backend gave no reason (HTTP 502)");
    // etcd's client port (and any other web server) answers our paths with a bare 404.
    const Error etcd = api_error({404, "404 page not found\n", "https://127.0.0.11:2379"});
    EXPECT_EQ(etcd.code(), Code::HttpError);
    EXPECT_EQ(std::string(etcd.what())
                  .rfind("https://127.0.0.11:2379: this is not a Trellis API: it answered HTTP 404 "
                         "\"404 page not found\" (",
                         0),
              0u)
        << etcd.what();
}

TEST(Classify, TlsAlertsTellWhichSideRefused) {
    const int ssl = static_cast<int>(httplib::Error::SSLConnection);
    const auto tls_failure = [](const Attempt& a) {
        EXPECT_EQ(a.failure, Failure::Tls) << a.reason;
        return a.tls ? a.tls->failure : static_cast<store::TlsFailure>(-1);
    };
    const Attempt required = classify_failure("u", true, ssl, 0, {"tlsv13 alert certificate required"}, false);
    EXPECT_EQ(tls_failure(required), store::TlsFailure::ClientRefused);
    EXPECT_EQ(required.reason,
              "the server requires a client certificate and we sent none: set --cert-file and --key-file "
              "(TLS: tlsv13 alert certificate required)");
    EXPECT_EQ(tls_failure(classify_failure("u", true, ssl, 0, {"sslv3 alert bad certificate"}, false)),
              store::TlsFailure::ClientRefused);
    EXPECT_EQ(tls_failure(classify_failure("u", true, ssl, 0, {"wrong version number"}, false)),
              store::TlsFailure::NotTls);
    const Attempt unknown = classify_failure("u", true, ssl, 0, {"something new"}, false);
    EXPECT_EQ(unknown.failure, Failure::Tls);
    EXPECT_FALSE(unknown.tls.has_value());
    EXPECT_EQ(unknown.reason, "TLS handshake failed: something new");
    const Attempt untrusted =
        classify_failure("u", true, static_cast<int>(httplib::Error::SSLServerVerification), 10, {}, false);
    EXPECT_EQ(tls_failure(untrusted), store::TlsFailure::ServerUntrusted);
    EXPECT_TRUE(contains(untrusted.reason, "certificate has expired")) << untrusted.reason;
    const Attempt read = classify_failure("u", true, static_cast<int>(httplib::Error::Read), 0, {}, true);
    EXPECT_EQ(read.failure, Failure::TimedOut);
    EXPECT_TRUE(read.request_may_have_arrived);
    EXPECT_FALSE(
        classify_failure("u", true, static_cast<int>(httplib::Error::Read), 0, {"tlsv1 alert unknown ca"}, false)
            .request_may_have_arrived);
    // Only an alert speaks for the server after the handshake: an eof there is a closed connection.
    const Attempt eof =
        classify_failure("u", true, static_cast<int>(httplib::Error::Read), 0, {"unexpected eof while reading"}, false);
    EXPECT_EQ(eof.failure, Failure::Closed);
    EXPECT_TRUE(eof.request_may_have_arrived);
}

TEST(Describe, PointsAtTheSettingOfTheSideThatRefused) {
    const Settings s = settings({"https://h:1"});
    const int ssl = static_cast<int>(httplib::Error::SSLConnection);
    EXPECT_EQ(describe(classify_failure("https://h:1", true, ssl, 0, {"tlsv1 alert unknown ca"}, false), s),
              "https://h:1: the server refused our client certificate: it is not signed by a CA the server trusts "
              "(TLS: tlsv1 alert unknown ca) (cert-file " +
                  tls("admin.pem") + ", from --cert-file)");
    const Attempt untrusted =
        classify_failure("https://h:1", true, static_cast<int>(httplib::Error::SSLServerVerification), 10, {}, false);
    EXPECT_TRUE(contains(describe(untrusted, s), "(trusted-ca-file " + tls("ca.pem") + ", from --trusted-ca-file)"));
    const Attempt refused =
        classify_failure("https://h:1", true, static_cast<int>(httplib::Error::Connection), 0, {}, false);
    EXPECT_EQ(describe(refused, s), "https://h:1: connection refused or host unreachable");
}

}  // namespace
}  // namespace trellis::ctl
