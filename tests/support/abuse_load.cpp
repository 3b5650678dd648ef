#include "abuse_load.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

namespace trellis::testing {

void close_fd(int fd) { ::close(fd); }

void send_all(int fd, const std::string& data) { (void)!::send(fd, data.data(), data.size(), MSG_NOSIGNAL); }

int connect_tcp(const std::string& source, const std::string& target, int port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    sockaddr_in from{}, to{};
    from.sin_family = to.sin_family = AF_INET;
    ::inet_pton(AF_INET, source.c_str(), &from.sin_addr);
    ::inet_pton(AF_INET, target.c_str(), &to.sin_addr);
    to.sin_port = htons(static_cast<std::uint16_t>(port));
    const timeval tv{2, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&from), sizeof from) != 0 ||
        ::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

bool closed_by_server(int fd, std::string* heard) {
    char buf[4096];
    for (int i = 0; i < 16; ++i) {  // bounded: an answer of the server is far shorter
        const ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n == 0) return true;
        if (n < 0) return errno != EAGAIN && errno != EWOULDBLOCK;
        if (heard != nullptr) heard->append(buf, static_cast<std::size_t>(n));
    }
    return false;
}

std::string half_client_hello() {
    std::string hello("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11);
    hello.append(54, '\x5a');
    return hello;
}

}  // namespace trellis::testing
