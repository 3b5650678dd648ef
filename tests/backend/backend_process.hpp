// A trellis-backend (or any) process for tests: started with its output in a log
// file, always killed (SIGKILL) and reaped when the object goes away.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace trellis::testing {

class ChildProcess {
  public:
    ChildProcess(const std::vector<std::string>& argv, const std::filesystem::path& log,
                 const std::vector<std::string>& extra_env = {});
    ~ChildProcess();
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;
    pid_t pid() const { return pid_; }
    void signal(int sig) const;
    // The exit code (or 128+signal) once it exits within `seconds`; nullopt if still running.
    std::optional<int> wait_exit(int seconds);
    std::string log() const;

  private:
    pid_t pid_ = -1;
    std::optional<int> status_;
    std::filesystem::path log_;
};

// Pids of live etcd processes whose command line mentions `needle` (e.g. a test's temp dir).
std::vector<pid_t> etcd_pids_mentioning(const std::string& needle);

}  // namespace trellis::testing
