#include "writer.hpp"

#include <chrono>
#include <cstdio>
#include <memory>

namespace trellis::testing {

Writer::Writer(std::vector<std::string> endpoints, store::TlsFiles tls, std::string prefix)
    : endpoints_(std::move(endpoints)), tls_(std::move(tls)), prefix_(std::move(prefix)) {}

Writer::~Writer() { stop(); }

void Writer::start() {
    thread_ = std::thread([this] { run(); });
}

void Writer::stop() {
    stopping_ = true;
    if (thread_.joinable()) thread_.join();
}

std::map<std::string, std::string> Writer::acknowledged() const {
    std::lock_guard lock(mutex_);
    return acked_;
}

bool Writer::wait_for_more(std::size_t n, int seconds) const {
    const std::size_t target = acknowledged().size() + n;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
    while (std::chrono::steady_clock::now() < deadline) {
        if (acknowledged().size() >= target) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
}

void Writer::run() {
    std::vector<std::unique_ptr<store::EtcdClient>> clients;
    for (const auto& e : endpoints_)
        clients.push_back(std::make_unique<store::EtcdClient>(store::ClientOptions{
            {e}, tls_, std::chrono::milliseconds(1000), std::chrono::milliseconds(5000), "writer"}));
    for (std::size_t seq = 0; !stopping_; ++seq) {
        char key[64];
        std::snprintf(key, sizeof key, "%s%08zu", prefix_.c_str(), seq);
        const std::string value = "value-" + std::to_string(seq) + "-via-" + std::to_string(seq % clients.size());
        ++requests_;
        try {
            clients[seq % clients.size()]->put(key, value);
            std::lock_guard lock(mutex_);
            acked_[key] = value;
        } catch (const std::exception&) {
            ++failures_;  // not acknowledged: may or may not be stored, so never checked
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
    }
}

}  // namespace trellis::testing
