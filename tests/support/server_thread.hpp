// A cpp-httplib server (plain or TLS) serving on its own thread for a test: bound to a
// loopback address on a free port, stopped and joined when the object goes away.
// Header-only, so only the tests that use it need httplib.
#pragma once

#include <httplib.h>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

namespace trellis::testing {

class ServerThread {
  public:
    // `server` has its routes already; `host` is an address such as "127.0.0.61".
    ServerThread(std::unique_ptr<httplib::Server> server, const std::string& host) : server_(std::move(server)) {
        port_ = server_->bind_to_any_port(host);
        if (port_ <= 0) throw std::runtime_error("cannot bind " + host);
        thread_ = std::thread([this] { server_->listen_after_bind(); });
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        while (!server_->is_running() && std::chrono::steady_clock::now() < deadline)
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        host_ = host;
    }
    ~ServerThread() {
        server_->stop();
        thread_.join();
    }
    ServerThread(const ServerThread&) = delete;
    ServerThread& operator=(const ServerThread&) = delete;

    int port() const { return port_; }
    // "https://127.0.0.61:40123"
    std::string url(const std::string& scheme) const { return scheme + "://" + host_ + ":" + std::to_string(port_); }

  private:
    std::unique_ptr<httplib::Server> server_;
    std::thread thread_;
    std::string host_;
    int port_ = 0;
};

}  // namespace trellis::testing
