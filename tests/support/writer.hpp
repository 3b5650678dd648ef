// A writer for day-2 proofs: puts numbered keys through every given etcd endpoint in turn, the
// whole time it runs, and counts every request, so a test can check afterwards that every
// acknowledged key is on every node.
#pragma once

#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "store/etcd_client.hpp"

namespace trellis::testing {

class Writer {
  public:
    enum class Mode {
        PerEndpoint,  // request N goes to endpoint N mod K only: any failure of one endpoint is counted
        Failover,     // request N starts at endpoint N mod K and fails over as the store client does
    };
    Writer(std::vector<std::string> endpoints, store::TlsFiles tls, std::string prefix, Mode mode = Mode::PerEndpoint);
    ~Writer();  // stops
    void start();
    void stop();
    // Keys etcd acknowledged, with their values; a snapshot of the counters.
    std::map<std::string, std::string> acknowledged() const;
    std::size_t requests() const { return requests_; }
    std::size_t failures() const { return failures_; }
    // What the failed requests said (the first 20), so a test can report why they failed.
    std::vector<std::string> failure_messages() const;
    // Waits (bounded) until at least `n` more keys than now are acknowledged; false on timeout.
    bool wait_for_more(std::size_t n, int seconds) const;

  private:
    void run();

    std::vector<std::string> endpoints_;
    store::TlsFiles tls_;
    std::string prefix_;
    Mode mode_;
    std::atomic<bool> stopping_{false};
    std::atomic<std::size_t> requests_{0}, failures_{0};
    mutable std::mutex mutex_;
    std::map<std::string, std::string> acked_;
    std::vector<std::string> failure_messages_;
    std::thread thread_;
};

}  // namespace trellis::testing
