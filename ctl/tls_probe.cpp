#include "tls_probe.hpp"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <memory>

#include <openssl/err.h>
#include <openssl/ssl.h>

namespace trellis::ctl {
namespace {

using Clock = std::chrono::steady_clock;

struct Fd {
    int fd = -1;
    ~Fd() {
        if (fd >= 0) ::close(fd);
    }
};

int remaining_ms(Clock::time_point deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    return left > 0 ? static_cast<int>(left) : 0;
}

// A non-blocking TCP connection to host:port, or -1, within the deadline.
int connect_by(const std::string& host, int port, Clock::time_point deadline) {
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    if (::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found) != 0) return -1;
    const std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> list(found, &::freeaddrinfo);
    for (const addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
        const int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) continue;
        if (::connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) return fd;
        if (errno == EINPROGRESS) {
            pollfd p{fd, POLLOUT, 0};
            int err = 0;
            socklen_t len = sizeof err;
            if (::poll(&p, 1, remaining_ms(deadline)) == 1 && ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 &&
                err == 0)
                return fd;
        }
        ::close(fd);
    }
    return -1;
}

// Drives one non-blocking SSL call until it completes, fails, or the deadline passes.
template <typename F>
int drive(SSL* ssl, int fd, Clock::time_point deadline, F&& call) {
    for (;;) {
        const int rc = call();
        if (rc > 0) return rc;
        const int err = SSL_get_error(ssl, rc);
        short events = 0;
        if (err == SSL_ERROR_WANT_READ)
            events = POLLIN;
        else if (err == SSL_ERROR_WANT_WRITE)
            events = POLLOUT;
        else
            return rc;
        pollfd p{fd, events, 0};
        const int wait = remaining_ms(deadline);
        if (wait == 0 || ::poll(&p, 1, wait) != 1) return 0;
    }
}

std::vector<std::string> reasons() {
    std::vector<std::string> out;
    while (const unsigned long e = ERR_get_error())
        if (const char* r = ERR_reason_error_string(e)) out.emplace_back(r);
    return out;
}

}  // namespace

std::vector<std::string> probe_tls_refusal(const std::string& host, int port, const std::string& cert_file,
                                           const std::string& key_file, int wait_ms) {
    const auto deadline = Clock::now() + std::chrono::milliseconds(wait_ms);
    ERR_clear_error();
    const std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_client_method()), &SSL_CTX_free);
    if (!ctx || SSL_CTX_use_certificate_chain_file(ctx.get(), cert_file.c_str()) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx.get(), key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
        ERR_clear_error();
        return {};
    }
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_NONE, nullptr);
    Fd sock{connect_by(host, port, deadline)};
    if (sock.fd < 0) return {};
    const std::unique_ptr<SSL, decltype(&SSL_free)> ssl(SSL_new(ctx.get()), &SSL_free);
    if (!ssl || SSL_set_fd(ssl.get(), sock.fd) != 1) return {};
    if (drive(ssl.get(), sock.fd, deadline, [&] { return SSL_connect(ssl.get()); }) <= 0) return reasons();
    // The handshake is done from our side; a server that refuses us says so now. Session tickets may come
    // first and are consumed by SSL_read; an answer of our own never comes, since we send nothing.
    char byte = 0;
    drive(ssl.get(), sock.fd, deadline, [&] { return SSL_read(ssl.get(), &byte, 1); });
    return reasons();
}

}  // namespace trellis::ctl
