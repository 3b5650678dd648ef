#include "store/tls_diagnosis.hpp"

#include <netdb.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <memory>

namespace trellis::store {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::string_view kNotTls = "the server does not speak TLS on this port";

constexpr auto kReasons = std::to_array<TlsReason>({
    {"alert certificate required", TlsFailure::ClientRefused, Refuser::Server,
     "the server requires a client certificate and we sent none", true},
    {"alert unknown ca", TlsFailure::ClientRefused, Refuser::Server,
     "the server refused our client certificate: it is not signed by a CA the server trusts", false},
    {"alert certificate expired", TlsFailure::ClientRefused, Refuser::Server,
     "the server refused our client certificate: it has expired", false},
    {"alert certificate revoked", TlsFailure::ClientRefused, Refuser::Server,
     "the server refused our client certificate: it is revoked", false},
    {"alert unsupported certificate", TlsFailure::ClientRefused, Refuser::Server,
     "the server refused our client certificate: unsupported (does it have the clientAuth extended key usage?)", false},
    {"alert bad certificate", TlsFailure::ClientRefused, Refuser::Server,
     "the server refused our client certificate as bad (wrong key usage, or not valid for client auth?)", false},
    {"alert certificate unknown", TlsFailure::ClientRefused, Refuser::Server,
     "the server refused our client certificate (certificate unknown: is clientAuth in its extended key usage?)",
     false},
    {"alert handshake failure", TlsFailure::ClientRefused, Refuser::Server,
     "the server aborted the handshake: usually no client certificate was sent, or no cipher in common", false},
    {"alert protocol version", TlsFailure::NoCommonGround, Refuser::Server,
     "the server refused the handshake: no TLS version in common", false},
    // OpenSSL read the first bytes of a plain HTTP answer as a TLS record header.
    {"wrong version number", TlsFailure::NotTls, Refuser::Neither,
     "the server does not speak TLS on this port: is it plain http (an http:// URL), or the wrong port?", false},
    {"packet length too long", TlsFailure::NotTls, Refuser::Neither,
     "the server does not speak TLS on this port: is it plain http (an http:// URL), or the wrong port?", false},
    {"unexpected eof while reading", TlsFailure::Closed, Refuser::Neither,
     "the server closed the connection during the TLS handshake", false},
});

// Not causes: what OpenSSL adds when a connection that already failed is cleaned up.
constexpr std::array<std::string_view, 1> kEchoes{"shutdown while in init"};

int remaining_ms(Clock::time_point deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    return left > 0 ? static_cast<int>(left) : 0;
}

// Waits for `events` on fd until the deadline; false on timeout or error.
bool wait_for(int fd, short events, Clock::time_point deadline) {
    pollfd p{fd, events, 0};
    for (int tries = 0; tries < 100; ++tries) {  // only EINTR repeats
        const int wait = remaining_ms(deadline);
        if (wait == 0) return false;
        const int rc = ::poll(&p, 1, wait);
        if (rc >= 0) return rc == 1;
        if (errno != EINTR) return false;
    }
    return false;
}

struct Fd {
    int fd = -1;
    ~Fd() {
        if (fd >= 0) ::close(fd);
    }
};

// Drives one non-blocking SSL call until it completes, fails, or the deadline passes.
template <typename F>
int drive(SSL* ssl, int fd, Clock::time_point deadline, F&& call) {
    for (;;) {
        const int rc = call();
        if (rc > 0) return rc;
        const int err = SSL_get_error(ssl, rc);
        if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) return rc;
        if (!wait_for(fd, err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline)) return 0;
    }
}

}  // namespace

std::span<const TlsReason> tls_reasons() { return kReasons; }

std::optional<TlsDiagnosis> diagnose_reasons(const std::vector<std::string>& openssl_reasons,
                                             std::string_view cert_settings) {
    for (const auto& row : kReasons)
        for (const auto& reason : openssl_reasons)
            if (reason.find(row.openssl_reason) != std::string::npos) {
                std::string text(row.explanation);
                if (row.names_cert_settings) text += ": set " + std::string(cert_settings);
                return TlsDiagnosis{row.failure, row.refuser, text + " (TLS: " + reason + ")"};
            }
    return std::nullopt;
}

TlsDiagnosis diagnose_server_certificate(long verify_result) {
    if (verify_result != X509_V_OK)
        return {
            TlsFailure::ServerUntrusted, Refuser::Us,
            std::string("we do not trust the server's certificate: ") + X509_verify_cert_error_string(verify_result)};
    return {TlsFailure::ServerWrongName, Refuser::Us,
            "we refused the server's certificate: it does not name this host (no matching IP or DNS subject alt name)"};
}

TlsDiagnosis plain_http_diagnosis() {
    return {TlsFailure::NotTls, Refuser::Neither,
            std::string(kNotTls) + ": it answers plain HTTP (use an http:// URL, or the TLS port)"};
}

std::vector<std::string> take_openssl_reasons() {
    std::vector<std::string> out;
    while (const unsigned long e = ERR_get_error()) {
        const char* r = ERR_reason_error_string(e);
        std::string reason = r != nullptr ? r : "unknown OpenSSL error " + std::to_string(ERR_GET_REASON(e));
        if (std::find(kEchoes.begin(), kEchoes.end(), reason) == kEchoes.end()) out.push_back(std::move(reason));
    }
    return out;
}

int dial_tcp(const Url& url, std::chrono::milliseconds timeout, std::string& why) {
    const std::string dial = "dial tcp " + url.host_port() + ": ";
    const auto deadline = Clock::now() + timeout;
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    if (const int rc = ::getaddrinfo(url.host.c_str(), std::to_string(url.port).c_str(), &hints, &found); rc != 0) {
        why = dial + "lookup " + url.host + ": " + ::gai_strerror(rc);
        return -1;
    }
    const std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> list(found, &::freeaddrinfo);
    why = dial + "connect: no usable address";
    for (const addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
        const int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) continue;
        int err = 0;
        if (::connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
            err = errno;
            if (err == EINPROGRESS) {
                socklen_t len = sizeof err;
                if (!wait_for(fd, POLLOUT, deadline))
                    err = ETIMEDOUT;
                else if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
                    err = errno;
            }
        }
        if (err == 0) return fd;
        ::close(fd);
        std::string text = err == ETIMEDOUT ? "i/o timeout" : std::string("connect: ") + std::strerror(err);
        for (auto& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        why = dial + text;
    }
    return -1;
}

namespace {

using CtxPtr = std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)>;
using SslPtr = std::unique_ptr<SSL, decltype(&SSL_free)>;

// A client context that presents options' certificate (if any) and verifies nothing: a probe wants
// the server's verdict on us, or its certificate, not our verdict on it. Null when the files do not load.
CtxPtr probe_context(const ProbeOptions& options) {
    CtxPtr ctx(SSL_CTX_new(TLS_client_method()), &SSL_CTX_free);
    if (!ctx) return ctx;
    if (!options.cert_file.empty() &&
        (SSL_CTX_use_certificate_chain_file(ctx.get(), options.cert_file.c_str()) != 1 ||
         SSL_CTX_use_PrivateKey_file(ctx.get(), options.key_file.c_str(), SSL_FILETYPE_PEM) != 1))
        return CtxPtr(nullptr, &SSL_CTX_free);
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_NONE, nullptr);
    return ctx;
}

}  // namespace

std::vector<std::string> probe_tls_refusal(const Url& url, const ProbeOptions& options) {
    const auto deadline = Clock::now() + options.timeout;
    ERR_clear_error();
    const CtxPtr ctx = probe_context(options);
    if (!ctx) {
        ERR_clear_error();
        return {};
    }
    std::string why;
    Fd sock{dial_tcp(url, options.timeout, why)};
    if (sock.fd < 0) return {};
    const SslPtr ssl(SSL_new(ctx.get()), &SSL_free);
    if (!ssl || SSL_set_fd(ssl.get(), sock.fd) != 1) return {};
    if (drive(ssl.get(), sock.fd, deadline, [&] { return SSL_connect(ssl.get()); }) <= 0) return take_openssl_reasons();
    // The handshake is done from our side; a server that refuses us says so now. Session tickets may come
    // first and are consumed by SSL_read; an answer of our own never comes, since we send nothing.
    char byte = 0;
    drive(ssl.get(), sock.fd, deadline, [&] { return SSL_read(ssl.get(), &byte, 1); });
    return take_openssl_reasons();
}

ServedCertificate served_certificate(const Url& url, const ProbeOptions& options) {
    const auto deadline = Clock::now() + options.timeout;
    ERR_clear_error();
    const CtxPtr ctx = probe_context(options);
    if (!ctx) {
        const auto reasons = take_openssl_reasons();
        return {{},
                "cannot load " + options.cert_file + " / " + options.key_file + ": " +
                    (reasons.empty() ? std::string("unknown reason") : reasons.front())};
    }
    std::string why;
    Fd sock{dial_tcp(url, options.timeout, why)};
    if (sock.fd < 0) return {{}, why};
    const SslPtr ssl(SSL_new(ctx.get()), &SSL_free);
    if (!ssl || SSL_set_fd(ssl.get(), sock.fd) != 1) return {{}, "cannot set up a TLS connection"};
    SSL_set_tlsext_host_name(ssl.get(), url.host.c_str());
    // The server's certificate arrives before it judges ours (TLS 1.2 and 1.3): a failed handshake still has it.
    const bool done = drive(ssl.get(), sock.fd, deadline, [&] { return SSL_connect(ssl.get()); }) > 0;
    const auto reasons = take_openssl_reasons();
    if (const X509* peer = SSL_get0_peer_certificate(ssl.get())) {
        const std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
        PEM_write_bio_X509(bio.get(), const_cast<X509*>(peer));
        char* data = nullptr;
        const long len = BIO_get_mem_data(bio.get(), &data);
        return {std::string(data, static_cast<std::size_t>(len)), {}};
    }
    if (!done && reasons.empty() && answers_plain_http(url, options.timeout))
        return {{}, plain_http_diagnosis().explanation};
    return {{}, reasons.empty() ? std::string("no certificate within the timeout") : "TLS: " + reasons.front()};
}

bool answers_plain_http(const Url& url, std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    std::string why;
    Fd sock{dial_tcp(url, timeout, why)};
    if (sock.fd < 0) return false;
    const std::string request = "GET / HTTP/1.0\r\nHost: " + url.host_port() + "\r\n\r\n";
    std::size_t sent = 0;
    while (sent < request.size()) {
        if (!wait_for(sock.fd, POLLOUT, deadline)) return false;
        const ssize_t n = ::send(sock.fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) return false;
        sent += static_cast<std::size_t>(n);
    }
    constexpr std::string_view kStatusLine = "HTTP/";  // "HTTP/1.1 404 Not Found"
    std::string head;
    while (head.size() < kStatusLine.size()) {
        if (!wait_for(sock.fd, POLLIN, deadline)) return false;
        char buf[16];
        const ssize_t n = ::recv(sock.fd, buf, kStatusLine.size() - head.size(), 0);
        if (n <= 0) return false;
        head.append(buf, static_cast<std::size_t>(n));
    }
    return head == kStatusLine;
}

namespace {

using X509Ptr = std::unique_ptr<X509, decltype(&X509_free)>;

X509Ptr read_first_certificate(const std::string& file) {
    const std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_file(file.c_str(), "r"), &BIO_free);
    X509Ptr cert(bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr, &X509_free);
    ERR_clear_error();
    return cert;
}

std::string utc(const ASN1_TIME* t) {
    std::tm tm{};
    if (ASN1_TIME_to_tm(t, &tm) != 1) return "an unreadable date";
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
    return buf;
}

// Whether `cert` chains to a CA in `ca_file` (signature and issuer only: the dates are checked apart).
bool signed_by(X509* cert, const std::string& ca_file) {
    const std::unique_ptr<X509_STORE, decltype(&X509_STORE_free)> store(X509_STORE_new(), &X509_STORE_free);
    const std::unique_ptr<X509_STORE_CTX, decltype(&X509_STORE_CTX_free)> ctx(X509_STORE_CTX_new(),
                                                                              &X509_STORE_CTX_free);
    if (!store || !ctx || X509_STORE_load_file(store.get(), ca_file.c_str()) != 1 ||
        X509_STORE_CTX_init(ctx.get(), store.get(), cert, nullptr) != 1) {
        ERR_clear_error();
        return true;  // nothing to compare with: no verdict
    }
    X509_STORE_CTX_set_flags(ctx.get(), X509_V_FLAG_NO_CHECK_TIME | X509_V_FLAG_PARTIAL_CHAIN);
    const bool ok = X509_verify_cert(ctx.get()) == 1;
    const int err = X509_STORE_CTX_get_error(ctx.get());
    ERR_clear_error();
    return ok || (err != X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY && err != X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT &&
                  err != X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT && err != X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN &&
                  err != X509_V_ERR_CERT_SIGNATURE_FAILURE);
}

}  // namespace

std::optional<std::string> client_certificate_problem(const std::string& cert_file, const std::string& ca_file) {
    const X509Ptr cert = read_first_certificate(cert_file);
    if (!cert) return std::nullopt;
    if (X509_cmp_current_time(X509_get0_notBefore(cert.get())) > 0)
        return "it is not valid yet (valid from " + utc(X509_get0_notBefore(cert.get())) +
               "; is this host's clock, or the issuing host's, wrong?)";
    if (X509_cmp_current_time(X509_get0_notAfter(cert.get())) < 0)
        return "it has expired (on " + utc(X509_get0_notAfter(cert.get())) + ")";
    if ((X509_get_extension_flags(cert.get()) & EXFLAG_XKUSAGE) != 0 &&
        (X509_get_extended_key_usage(cert.get()) & XKU_SSL_CLIENT) == 0)
        return std::string("it lacks the clientAuth extended key usage");
    if (!ca_file.empty() && !signed_by(cert.get(), ca_file))
        return "it is not signed by the CA in " + ca_file +
               ", the CA of the server's certificate (a CA the server does not trust?)";
    return std::nullopt;
}

TlsDiagnosis refine_client_refusal(TlsDiagnosis diagnosis, const std::string& cert_file, const std::string& ca_file) {
    // "certificate required": we sent none, whatever the file holds.
    if (diagnosis.failure != TlsFailure::ClientRefused || diagnosis.refuser != Refuser::Server || cert_file.empty() ||
        diagnosis.explanation.find("alert certificate required") != std::string::npos)
        return diagnosis;
    const auto problem = client_certificate_problem(cert_file, ca_file);
    if (!problem) return diagnosis;
    // Keep OpenSSL's words for the record: "... (TLS: sslv3 alert bad certificate)".
    const auto tls = diagnosis.explanation.rfind(" (TLS: ");
    diagnosis.explanation = "the server refused our client certificate: " + *problem +
                            (tls == std::string::npos ? "" : diagnosis.explanation.substr(tls));
    return diagnosis;
}

std::optional<TlsDiagnosis> diagnose_tls_failure(const Url& url, TlsStage stage,
                                                 const std::vector<std::string>& openssl_reasons,
                                                 const ProbeOptions& probe, std::string_view cert_settings) {
    const auto refined = [&](const TlsDiagnosis& d) {
        return refine_client_refusal(d, probe.cert_file, probe.ca_file);
    };
    const auto known = diagnose_reasons(openssl_reasons, cert_settings);
    if (known && known->refuser == Refuser::Server) return refined(*known);  // the server's own alert
    if (stage == TlsStage::AfterHandshake) {
        // Anything but an alert after the handshake is no TLS matter: the caller reports the read or write.
        auto late = diagnose_reasons(probe_tls_refusal(url, probe), cert_settings);
        if (late && late->refuser == Refuser::Server) return refined(*late);
        return std::nullopt;
    }
    if (answers_plain_http(url, probe.timeout)) return plain_http_diagnosis();
    return known;
}

}  // namespace trellis::store
