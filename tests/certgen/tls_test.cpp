// Mutual TLS with OpenSSL in-process using certgen's certificates: a server
// with a peer certificate that requires client certificates, a client with the
// guide's client certificate. A client certificate from another CA is refused.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <future>
#include <memory>

#include "helpers.hpp"

namespace trellis::certgen_test {
namespace {

using testing::TempDir;

constexpr const char* kServerIp = "127.0.0.31";  // not the shared 127.0.0.11-14 cluster hosts

using CtxPtr = std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)>;

struct Pki {
    TempDir dir;
    Pki() {
        // The guide's CA, a peer for the server's address and a client; plus a stranger CA and its client.
        const std::string script =
            "echo '" + kCaRequest +
            "' | certgen gencert -initca - | certgen-json -bare ca\n"
            "echo '" +
            kCaConfig +
            "' > ca-config.json\n"
            "echo '" +
            guide_request("backend-1") +
            "' | certgen gencert -config=ca-config.json -ca=ca.pem "
            "-ca-key=ca-key.pem -hostname=\"" +
            kServerIp +
            ",backend-1,127.0.0.1,::\" -profile=peer - | certgen-json -bare backend-1\n"
            "echo '" +
            guide_request("client") +
            "' | certgen gencert -config=ca-config.json -ca=ca.pem "
            "-ca-key=ca-key.pem -hostname=\"\" -profile=client - | certgen-json -bare client\n"
            "echo '{\"CN\":\"Stranger CA\"}' | certgen gencert -initca - | certgen-json -bare stranger\n"
            "echo '" +
            guide_request("client") +
            "' | certgen gencert -config=ca-config.json -ca=stranger.pem "
            "-ca-key=stranger-key.pem -profile=client - | certgen-json -bare stranger-client\n";
        auto r = shell(script, dir.path());
        if (r.exit_code != 0) throw std::runtime_error("making the PKI failed: " + r.err);
    }
    std::string path(const std::string& name) const { return (dir.path() / name).string(); }
};

const Pki& pki() {
    static const Pki instance;
    return instance;
}

std::string openssl_errors() {
    std::string out;
    while (const unsigned long e = ERR_get_error()) {
        char buf[256];
        ERR_error_string_n(e, buf, sizeof buf);
        out += std::string(buf) + "; ";
    }
    return out;
}

CtxPtr make_ctx(bool server, const std::string& cert, const std::string& key, const std::string& ca) {
    CtxPtr ctx(SSL_CTX_new(server ? TLS_server_method() : TLS_client_method()), SSL_CTX_free);
    if (!ctx) throw std::runtime_error("SSL_CTX_new failed");
    SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
    if (!cert.empty()) {
        if (SSL_CTX_use_certificate_chain_file(ctx.get(), pki().path(cert).c_str()) != 1 ||
            SSL_CTX_use_PrivateKey_file(ctx.get(), pki().path(key).c_str(), SSL_FILETYPE_PEM) != 1 ||
            SSL_CTX_check_private_key(ctx.get()) != 1)
            throw std::runtime_error("loading " + cert + " failed: " + openssl_errors());
    }
    if (SSL_CTX_load_verify_locations(ctx.get(), pki().path(ca).c_str(), nullptr) != 1)
        throw std::runtime_error("loading " + ca + " failed: " + openssl_errors());
    // The server requires a client certificate; the client requires a valid server.
    SSL_CTX_set_verify(ctx.get(), server ? SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT : SSL_VERIFY_PEER,
                       nullptr);
    return ctx;
}

struct Outcome {
    bool server_ok = false;
    bool client_ok = false;
    long server_verify = -1;
    long client_verify = -1;
    std::string client_cn;  // what the server saw
    std::string errors;
};

void set_timeouts(int fd) {
    timeval tv{10, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

// One handshake over loopback; the client checks the server's certificate for `verify_ip`.
// Each side then exchanges a byte so TLS 1.3's post-handshake client-cert failure surfaces.
Outcome handshake(SSL_CTX* server_ctx, SSL_CTX* client_ctx, const std::string& verify_ip) {
    const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = 0;  // ephemeral: tests run in parallel
    ::inet_pton(AF_INET, kServerIp, &addr.sin_addr);
    if (::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(listener, 1) != 0)
        throw std::runtime_error("cannot listen on " + std::string(kServerIp));
    socklen_t len = sizeof addr;
    ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);

    Outcome out;
    auto server = std::async(std::launch::async, [&]() {
        pollfd p{listener, POLLIN, 0};
        if (::poll(&p, 1, 10000) != 1) return;
        const int fd = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0) return;
        set_timeouts(fd);
        SSL* ssl = SSL_new(server_ctx);
        SSL_set_fd(ssl, fd);
        char byte = 0;
        out.server_ok = SSL_accept(ssl) == 1 && SSL_read(ssl, &byte, 1) == 1 && SSL_write(ssl, "s", 1) == 1;
        out.server_verify = SSL_get_verify_result(ssl);
        if (X509* peer = SSL_get1_peer_certificate(ssl)) {
            char cn[256] = {};
            X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, cn, sizeof cn);
            out.client_cn = cn;
            X509_free(peer);
        }
        SSL_shutdown(ssl);
        SSL_free(ssl);
        ::close(fd);
    });

    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    set_timeouts(fd);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
        SSL* ssl = SSL_new(client_ctx);
        X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), verify_ip.c_str());
        SSL_set_fd(ssl, fd);
        char byte = 0;
        out.client_ok = SSL_connect(ssl) == 1 && SSL_write(ssl, "c", 1) == 1 && SSL_read(ssl, &byte, 1) == 1;
        out.client_verify = SSL_get_verify_result(ssl);
        out.errors = openssl_errors();
        SSL_free(ssl);
    }
    ::close(fd);
    server.wait_for(std::chrono::seconds(20));
    server.get();
    ::close(listener);
    return out;
}

TEST(MutualTls, CertgenPeerAndClientCompleteTheHandshake) {
    auto server = make_ctx(true, "backend-1.pem", "backend-1-key.pem", "ca.pem");
    auto client = make_ctx(false, "client.pem", "client-key.pem", "ca.pem");
    const auto o = handshake(server.get(), client.get(), kServerIp);
    EXPECT_TRUE(o.server_ok) << o.errors;
    EXPECT_TRUE(o.client_ok) << o.errors;
    EXPECT_EQ(o.server_verify, X509_V_OK);
    EXPECT_EQ(o.client_verify, X509_V_OK);
    EXPECT_EQ(o.client_cn, "client");
}

TEST(MutualTls, ServerCertificateCoversLoopback127001) {
    // The same peer certificate verified for 127.0.0.1 (its SAN), outside a connection.
    X509_STORE* store = X509_STORE_new();
    ASSERT_EQ(X509_STORE_load_file(store, pki().path("ca.pem").c_str()), 1);
    FILE* f = std::fopen(pki().path("backend-1.pem").c_str(), "r");
    ASSERT_NE(f, nullptr);
    X509* leaf = PEM_read_X509(f, nullptr, nullptr, nullptr);
    std::fclose(f);
    ASSERT_NE(leaf, nullptr);
    for (const auto& [ip, ok] : std::vector<std::pair<std::string, bool>>{{"127.0.0.1", true}, {"127.0.0.99", false}}) {
        X509_STORE_CTX* ctx = X509_STORE_CTX_new();
        X509_STORE_CTX_init(ctx, store, leaf, nullptr);
        X509_VERIFY_PARAM_set1_ip_asc(X509_STORE_CTX_get0_param(ctx), ip.c_str());
        X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER);
        EXPECT_EQ(X509_verify_cert(ctx) == 1, ok)
            << ip << ": " << X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx));
        X509_STORE_CTX_free(ctx);
    }
    X509_free(leaf);
    X509_STORE_free(store);
}

TEST(MutualTls, ClientCertificateFromAnotherCaIsRefused) {
    auto server = make_ctx(true, "backend-1.pem", "backend-1-key.pem", "ca.pem");
    auto client = make_ctx(false, "stranger-client.pem", "stranger-client-key.pem", "ca.pem");
    const auto o = handshake(server.get(), client.get(), kServerIp);
    EXPECT_FALSE(o.server_ok);
    EXPECT_FALSE(o.client_ok);
    EXPECT_NE(o.server_verify, X509_V_OK);
    EXPECT_EQ(o.client_verify, X509_V_OK);  // the server itself was fine
}

TEST(MutualTls, ClientWithoutCertificateIsRefused) {
    auto server = make_ctx(true, "backend-1.pem", "backend-1-key.pem", "ca.pem");
    auto client = make_ctx(false, "", "", "ca.pem");
    const auto o = handshake(server.get(), client.get(), kServerIp);
    EXPECT_FALSE(o.server_ok);
    EXPECT_FALSE(o.client_ok);
}

TEST(MutualTls, ServerFromAnotherCaIsRefusedByTheClient) {
    auto server = make_ctx(true, "backend-1.pem", "backend-1-key.pem", "ca.pem");
    auto client = make_ctx(false, "client.pem", "client-key.pem", "stranger.pem");
    const auto o = handshake(server.get(), client.get(), kServerIp);
    EXPECT_FALSE(o.client_ok);
    EXPECT_NE(o.client_verify, X509_V_OK);
}

}  // namespace
}  // namespace trellis::certgen_test
