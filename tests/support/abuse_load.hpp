// An attacker's load for the API abuse test and benchmark (tests/backend/abuse_test.cpp,
// bench/api_abuse_bench.cpp): idle TCP connections and stalled TLS handshakes held against one
// address and port, each reopened as the server closes it.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace trellis::testing {

void close_fd(int fd);
void send_all(int fd, const std::string& data);  // best effort, without SIGPIPE
// A TCP connection from `source` (bound; one of the caller's addresses) to target:port; -1 when
// refused. Send and receive time out after 2 s.
int connect_tcp(const std::string& source, const std::string& target, int port);
// Whether the server has closed `fd` (EOF or reset), without waiting; what it sent first goes to `heard`.
bool closed_by_server(int fd, std::string* heard = nullptr);
// The first bytes of a TLS ClientHello (a record header announcing 512 bytes, then 60 of them): the
// server's handshake waits for the rest, which never comes.
std::string half_client_hello();

// The attacker: keeps `idle` and `stalled` connections open, reopening each as the server
// closes it, and records how long the server let each live. Bounded: stop() or 300 s.
class Attack {
  public:
    struct Kind {
        std::string name;    // "stalled": each sends half a ClientHello; anything else: idle
        std::string source;  // the source address its sockets are bound to
        int count;
    };
    Attack(std::string target, int port, std::vector<Kind> kinds,
           std::chrono::milliseconds every = std::chrono::milliseconds(50))
        : target_(std::move(target)), port_(port), every_(every), kinds_(std::move(kinds)) {
        for (std::size_t k = 0; k < kinds_.size(); ++k)
            for (int i = 0; i < kinds_[k].count; ++i) socks_.push_back({k, -1, {}});
        thread_ = std::thread([this] { run(); });
    }
    ~Attack() { stop(); }
    void stop() {
        stopping_ = true;
        if (thread_.joinable()) thread_.join();
        for (auto& s : socks_)
            if (s.fd >= 0) close_fd(s.fd);
        socks_.clear();
    }
    // How many sockets of `kind` the server closed, and after how long (seconds) each had lived.
    std::vector<double> lifetimes(const std::string& kind) const {
        std::lock_guard lock(mutex_);
        const auto it = lives_.find(kind);
        return it == lives_.end() ? std::vector<double>{} : it->second;
    }
    std::size_t open(const std::string& kind) const {
        std::lock_guard lock(mutex_);
        const auto it = open_.find(kind);
        return it == open_.end() ? 0 : it->second;
    }

  private:
    struct Sock {
        std::size_t kind;
        int fd;
        std::chrono::steady_clock::time_point opened;
    };
    void run() {
        const std::string hello = half_client_hello();
        const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(300);
        while (!stopping_ && std::chrono::steady_clock::now() < end) {
            std::map<std::string, std::size_t> open;
            for (auto& s : socks_) {
                const Kind& kind = kinds_[s.kind];
                if (s.fd >= 0 && closed_by_server(s.fd)) {
                    record(kind.name,
                           std::chrono::duration<double>(std::chrono::steady_clock::now() - s.opened).count());
                    close_fd(s.fd);
                    s.fd = -1;
                }
                if (s.fd < 0) {
                    s.fd = connect_tcp(kind.source, target_, port_);
                    s.opened = std::chrono::steady_clock::now();
                    if (s.fd >= 0 && kind.name == "stalled") send_all(s.fd, hello);
                }
                if (s.fd >= 0) ++open[kind.name];
            }
            {
                std::lock_guard lock(mutex_);
                open_ = open;
            }
            std::this_thread::sleep_for(every_);
        }
    }
    void record(const std::string& kind, double lived) {
        std::lock_guard lock(mutex_);
        lives_[kind].push_back(lived);
    }

    std::string target_;
    int port_;
    std::chrono::milliseconds every_;
    std::vector<Kind> kinds_;
    std::vector<Sock> socks_;
    std::atomic<bool> stopping_{false};
    mutable std::mutex mutex_;
    std::map<std::string, std::vector<double>> lives_;
    std::map<std::string, std::size_t> open_;
    std::thread thread_;
};

}  // namespace trellis::testing
