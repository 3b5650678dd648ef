#include "writer.hpp"

#include <chrono>
#include <cstdio>
#include <memory>

namespace trellis::testing {

Writer::Writer(std::vector<std::string> endpoints, store::TlsFiles tls, std::string prefix, Mode mode)
    : endpoints_(std::move(endpoints)), tls_(std::move(tls)), prefix_(std::move(prefix)), mode_(mode) {}

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

std::vector<std::string> Writer::failure_messages() const {
    std::lock_guard lock(mutex_);
    return failure_messages_;
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
    for (std::size_t i = 0; i < endpoints_.size(); ++i) {
        std::vector<std::string> order{endpoints_[i]};  // PerEndpoint: this one; Failover: then the others
        for (std::size_t n = 1; mode_ == Mode::Failover && n < endpoints_.size(); ++n)
            order.push_back(endpoints_[(i + n) % endpoints_.size()]);
        clients.push_back(std::make_unique<store::EtcdClient>(store::ClientOptions{
            order, tls_, std::chrono::milliseconds(1000), std::chrono::milliseconds(5000), "writer"}));
    }
    for (std::size_t seq = 0; !stopping_; ++seq) {
        char key[64];
        std::snprintf(key, sizeof key, "%s%08zu", prefix_.c_str(), seq);
        const std::string value = "value-" + std::to_string(seq) + "-via-" + std::to_string(seq % clients.size());
        ++requests_;
        try {
            clients[seq % clients.size()]->put(key, value);
            std::lock_guard lock(mutex_);
            acked_[key] = value;
        } catch (const std::exception& e) {
            ++failures_;  // not acknowledged: may or may not be stored, so never checked
            {
                std::lock_guard lock(mutex_);
                if (failure_messages_.size() < 20) failure_messages_.push_back(std::string(key) + ": " + e.what());
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
    }
}

}  // namespace trellis::testing
