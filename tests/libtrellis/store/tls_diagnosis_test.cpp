// The shared TLS diagnosis: the table of OpenSSL reasons, and the probes against real
// servers on 127.0.0.46 (cpp-httplib's, plain and mutual TLS, with certificates made by
// the openssl CLI) and bare sockets that close or never answer.
#include "store/tls_diagnosis.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <thread>

#include "server_thread.hpp"
#include "support.hpp"
#include "test_pki.hpp"

namespace trellis::store {
namespace {

using namespace std::chrono_literals;
using testing::ServerThread;
using testing::TempDir;

constexpr const char* kHost = "127.0.0.46";
constexpr std::string_view kCtl = "--cert-file and --key-file";
constexpr std::string_view kBackend = "etcd-cert-file and etcd-key-file";

bool contains(const std::string& text, std::string_view part) { return text.find(part) != std::string::npos; }

TEST(TlsReasons, EveryRowIsReachedByItsOwnReason) {
    ASSERT_FALSE(tls_reasons().empty());
    for (const auto& row : tls_reasons()) {
        // As OpenSSL words them: a protocol prefix before the alert, e.g. "tlsv13 alert certificate required".
        const std::string reason = "tlsv13 " + std::string(row.openssl_reason);
        const auto d = diagnose_reasons({reason}, kCtl);
        ASSERT_TRUE(d.has_value()) << reason;
        EXPECT_EQ(d->failure, row.failure) << reason;
        EXPECT_EQ(d->refuser, row.refuser) << reason;
        EXPECT_EQ(d->explanation.rfind(row.explanation, 0), 0u) << d->explanation;
        EXPECT_TRUE(d->explanation.ends_with(" (TLS: " + reason + ")")) << d->explanation;
    }
}

TEST(TlsReasons, AnAlertIsTheServerRefusingAndNothingElseIs) {
    for (const auto& row : tls_reasons())
        EXPECT_EQ(row.refuser == Refuser::Server, row.openssl_reason.starts_with("alert ")) << row.openssl_reason;
}

TEST(TlsReasons, TheCallersCertificateSettingsAreNamedWhenTheServerWantsACertificate) {
    EXPECT_EQ(diagnose_reasons({"tlsv13 alert certificate required"}, kCtl)->explanation,
              "the server requires a client certificate and we sent none: set --cert-file and --key-file "
              "(TLS: tlsv13 alert certificate required)");
    EXPECT_TRUE(contains(diagnose_reasons({"tlsv13 alert certificate required"}, kBackend)->explanation,
                         "we sent none: set etcd-cert-file and etcd-key-file"));
    for (const auto& row : tls_reasons()) {
        const auto d = diagnose_reasons({std::string(row.openssl_reason)}, kBackend);
        EXPECT_EQ(contains(d->explanation, kBackend), row.names_cert_settings) << d->explanation;
    }
}

TEST(TlsReasons, TheTableDecidesNotTheOrderOfTheQueue) {
    const auto d = diagnose_reasons({"unexpected eof while reading", "sslv3 alert bad certificate"}, kCtl);
    ASSERT_TRUE(d.has_value());
    EXPECT_EQ(d->failure, TlsFailure::ClientRefused);
    EXPECT_TRUE(d->explanation.ends_with("(TLS: sslv3 alert bad certificate)")) << d->explanation;
    EXPECT_FALSE(diagnose_reasons({"something new"}, kCtl).has_value());
    EXPECT_FALSE(diagnose_reasons({}, kCtl).has_value());
}

TEST(TlsReasons, OurRefusalOfTheServersCertificate) {
    const TlsDiagnosis expired = diagnose_server_certificate(X509_V_ERR_CERT_HAS_EXPIRED);
    EXPECT_EQ(expired.failure, TlsFailure::ServerUntrusted);
    EXPECT_EQ(expired.refuser, Refuser::Us);
    EXPECT_EQ(expired.explanation, "we do not trust the server's certificate: certificate has expired");
    const TlsDiagnosis name = diagnose_server_certificate(X509_V_OK);
    EXPECT_EQ(name.failure, TlsFailure::ServerWrongName);
    EXPECT_TRUE(contains(name.explanation, "does not name this host")) << name.explanation;
}

TEST(TlsReasons, TheQueueIsDrainedWithoutTheEchoesOfCleaningUp) {
    OPENSSL_init_ssl(0, nullptr);
    ERR_clear_error();
    ERR_raise(ERR_LIB_SSL, SSL_R_WRONG_VERSION_NUMBER);
    ERR_raise(ERR_LIB_SSL, SSL_R_SHUTDOWN_WHILE_IN_INIT);
    EXPECT_EQ(take_openssl_reasons(), std::vector<std::string>{"wrong version number"});
    EXPECT_EQ(ERR_peek_error(), 0u);
    EXPECT_TRUE(take_openssl_reasons().empty());
}

// A bare listener: each connection is accepted and closed at once, or (`accept` false) never accepted.
class Listener {
  public:
    explicit Listener(bool accept) {
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        ::inet_pton(AF_INET, kHost, &addr.sin_addr);
        socklen_t len = sizeof addr;
        if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 || ::listen(fd_, 16) != 0 ||
            ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
            throw std::runtime_error("cannot listen on " + std::string(kHost));
        url_ = Url{"https", kHost, ntohs(addr.sin_port)};
        if (accept)
            thread_ = std::thread([this] {
                while (!stop_) {
                    pollfd p{fd_, POLLIN, 0};
                    if (::poll(&p, 1, 50) == 1)
                        if (const int c = ::accept(fd_, nullptr, nullptr); c >= 0) ::close(c);
                }
            });
    }
    ~Listener() {
        stop_ = true;
        if (thread_.joinable()) thread_.join();
        ::close(fd_);
    }
    const Url& url() const { return url_; }

  private:
    int fd_ = -1;
    Url url_;
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

TEST(TlsProbe, DialSaysWhyAsGoDoes) {
    std::string why;
    EXPECT_EQ(dial_tcp(Url{"https", kHost, 1}, 1000ms, why), -1);  // nothing listens on port 1
    EXPECT_EQ(why, "dial tcp 127.0.0.46:1: connect: connection refused");
}

TEST(TlsProbe, APlainHttpPortIsNamedWhateverOpenSslMadeOfIt) {
    ServerThread plain(std::make_unique<httplib::Server>(), kHost);
    const Url url{"https", kHost, plain.port()};
    EXPECT_TRUE(answers_plain_http(url, 1000ms));
    // OpenSSL's reason differs with timing; none of them decides.
    for (const std::vector<std::string>& reasons :
         {std::vector<std::string>{}, {"wrong version number"}, {"unexpected eof while reading"}}) {
        const auto d = diagnose_tls_failure(url, TlsStage::Handshake, reasons, {{}, {}, 1000ms, {}}, kCtl);
        ASSERT_TRUE(d.has_value());
        EXPECT_EQ(d->failure, TlsFailure::NotTls);
        EXPECT_EQ(d->explanation, plain_http_diagnosis().explanation);
    }
}

TEST(TlsProbe, WhatDoesNotAnswerHttpIsNotTakenForIt) {
    TempDir dir;
    const auto ca = testing::make_test_ca(dir.path(), "ca");
    const auto server = testing::issue_test_cert(ca, dir.path(), "server", {kHost}, "serverAuth");
    ServerThread tls(std::make_unique<httplib::SSLServer>(server.cert.c_str(), server.key.c_str()), kHost);
    EXPECT_FALSE(answers_plain_http(Url{"https", kHost, tls.port()}, 1000ms));

    const Listener closing(true);
    EXPECT_FALSE(answers_plain_http(closing.url(), 1000ms));
    // Then the table speaks, or nothing does.
    const auto eof = diagnose_tls_failure(closing.url(), TlsStage::Handshake, {"unexpected eof while reading"},
                                          {{}, {}, 1000ms, {}}, kCtl);
    ASSERT_TRUE(eof.has_value());
    EXPECT_EQ(eof->failure, TlsFailure::Closed);
    EXPECT_FALSE(diagnose_tls_failure(closing.url(), TlsStage::Handshake, {}, {{}, {}, 1000ms, {}}, kCtl).has_value());

    const Listener silent(false);
    const auto start = std::chrono::steady_clock::now();
    EXPECT_FALSE(answers_plain_http(silent.url(), 300ms));
    EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);  // bounded by its timeout, not by the peer
}

class MutualTls : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        dir_ = new TempDir;
        const auto ca = testing::make_test_ca(dir_->path(), "ca");
        const auto server = testing::issue_test_cert(ca, dir_->path(), "server", {kHost}, "serverAuth");
        good_ = new testing::TestPair(testing::issue_test_cert(ca, dir_->path(), "admin", {}, "clientAuth"));
        const auto other = testing::make_test_ca(dir_->path(), "other-ca");
        stranger_ = new testing::TestPair(testing::issue_test_cert(other, dir_->path(), "stranger", {}, "clientAuth"));
        auto s = std::make_unique<httplib::SSLServer>(server.cert.c_str(), server.key.c_str(), ca.cert.c_str());
        s->Get("/", [](const httplib::Request&, httplib::Response& res) { res.set_content("{}", "application/json"); });
        server_ = new ServerThread(std::move(s), kHost);
    }
    static void TearDownTestSuite() {
        delete server_;
        delete good_;
        delete stranger_;
        delete dir_;
    }
    static Url url() { return Url{"https", kHost, server_->port()}; }
    // An accepting server sends no alert, so a probe as `good_` lasts its whole timeout: keep that one short.
    static ProbeOptions as(const testing::TestPair* pair, std::chrono::milliseconds timeout = 2000ms) {
        return pair ? ProbeOptions{pair->cert.string(), pair->key.string(), timeout, {}}
                    : ProbeOptions{{}, {}, timeout, {}};
    }
    static bool any_contains(const std::vector<std::string>& reasons, std::string_view part) {
        for (const auto& r : reasons)
            if (contains(r, part)) return true;
        return false;
    }
    static inline TempDir* dir_ = nullptr;
    static inline testing::TestPair* good_ = nullptr;
    static inline testing::TestPair* stranger_ = nullptr;
    static inline ServerThread* server_ = nullptr;
};

TEST_F(MutualTls, TheProbeReadsTheServersVerdictOnUs) {
    const auto none = probe_tls_refusal(url(), as(nullptr));
    EXPECT_TRUE(any_contains(none, "alert certificate required")) << ::testing::PrintToString(none);
    const auto stranger = probe_tls_refusal(url(), as(stranger_));
    EXPECT_TRUE(any_contains(stranger, "alert unknown ca")) << ::testing::PrintToString(stranger);
    EXPECT_TRUE(probe_tls_refusal(url(), as(good_, 300ms)).empty());
}

TEST_F(MutualTls, ALateRefusalIsFoundAfterAFailedReadOrWrite) {
    const auto d = diagnose_tls_failure(url(), TlsStage::AfterHandshake, {}, as(nullptr), kBackend);
    ASSERT_TRUE(d.has_value());
    EXPECT_EQ(d->failure, TlsFailure::ClientRefused);
    EXPECT_EQ(d->refuser, Refuser::Server);
    EXPECT_TRUE(contains(d->explanation, "we sent none: set etcd-cert-file and etcd-key-file")) << d->explanation;
    // An alert already in the queue is believed without a second look.
    const auto queued = diagnose_tls_failure(Url{"https", kHost, 1}, TlsStage::AfterHandshake,
                                             {"tlsv1 alert unknown ca"}, as(nullptr), kCtl);
    ASSERT_TRUE(queued.has_value());
    EXPECT_EQ(queued->failure, TlsFailure::ClientRefused);
    // Accepted by the server: the failed read was no TLS matter.
    EXPECT_FALSE(diagnose_tls_failure(url(), TlsStage::AfterHandshake, {}, as(good_, 300ms), kCtl).has_value());
}

// What a server would hold against our certificate, read from the certificate: the first of not yet valid,
// expired, no clientAuth, not signed by the server's CA. Servers' alerts are vaguer (Go: "bad certificate").
TEST(ClientCertificate, ProblemsAreReadFromTheCertificateItself) {
    TempDir dir;
    const auto ca = testing::make_test_ca(dir.path(), "ca");
    const auto good = testing::issue_test_cert(ca, dir.path(), "good", {}, "clientAuth");
    const auto server_only = testing::issue_test_cert(ca, dir.path(), "server-only", {}, "serverAuth");
    const auto early = testing::issue_future_test_cert(ca, dir.path(), "early", "clientAuth", "20300101000000Z");
    const auto other = testing::make_test_ca(dir.path(), "other");
    const auto stranger = testing::issue_test_cert(other, dir.path(), "stranger", {}, "clientAuth");
    const std::string ca_file = ca.cert.string();

    EXPECT_EQ(client_certificate_problem(good.cert.string(), ca_file), std::nullopt);
    EXPECT_EQ(client_certificate_problem(server_only.cert.string(), ca_file),
              "it lacks the clientAuth extended key usage");
    EXPECT_EQ(client_certificate_problem(early.cert.string(), ca_file),
              "it is not valid yet (valid from 2030-01-01 00:00:00 UTC; is this host's clock, or the issuing host's, "
              "wrong?)");
    EXPECT_EQ(client_certificate_problem(stranger.cert.string(), ca_file),
              "it is not signed by the CA in " + ca_file +
                  ", the CA of the server's certificate (a CA the server does not trust?)");
    EXPECT_EQ(client_certificate_problem(stranger.cert.string(), ""), std::nullopt);  // nothing to compare with
    EXPECT_EQ(client_certificate_problem((dir.path() / "missing.pem").string(), ca_file), std::nullopt);

    // A terse alert is made specific; "we sent none" and other diagnoses stay as they were.
    const auto bad = diagnose_reasons({"sslv3 alert bad certificate"}, kCtl);
    ASSERT_TRUE(bad.has_value());
    EXPECT_EQ(refine_client_refusal(*bad, early.cert.string(), ca_file).explanation,
              "the server refused our client certificate: it is not valid yet (valid from 2030-01-01 00:00:00 UTC; is "
              "this host's clock, or the issuing host's, wrong?) (TLS: sslv3 alert bad certificate)");
    EXPECT_EQ(refine_client_refusal(*bad, good.cert.string(), ca_file).explanation, bad->explanation);
    const auto none = diagnose_reasons({"tlsv13 alert certificate required"}, kCtl);
    ASSERT_TRUE(none.has_value());
    EXPECT_EQ(refine_client_refusal(*none, early.cert.string(), ca_file).explanation, none->explanation);
}

}  // namespace
}  // namespace trellis::store
