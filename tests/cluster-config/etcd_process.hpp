// A real etcd process for tests: spawned with posix_spawn, its output in a log
// file, and always stopped (SIGTERM, then SIGKILL) when the object goes away,
// also when the test fails half-way.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

namespace trellis::testing {

class EtcdProcess {
  public:
    EtcdProcess(const std::vector<std::string>& args, const std::filesystem::path& log,
                const std::string& binary = "/usr/bin/etcd");
    ~EtcdProcess();
    EtcdProcess(const EtcdProcess&) = delete;
    EtcdProcess& operator=(const EtcdProcess&) = delete;

    bool running();
    // SIGTERM, wait up to `grace_seconds`, then SIGKILL; reaps the child.
    void stop(int grace_seconds = 10);
    pid_t pid() const { return pid_; }
    std::string log_tail(size_t bytes = 2000) const;

  private:
    pid_t pid_ = -1;
    std::filesystem::path log_;
};

}  // namespace trellis::testing
