// A trellis-backend started by a trellisctl test: output to a log file, and
// always stopped (SIGTERM, then SIGKILL after a bound) and reaped when the object goes away.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace trellis::ctl::testing {

class Process {
  public:
    Process(const std::vector<std::string>& argv, const std::filesystem::path& log);
    ~Process();
    Process(const Process&) = delete;
    Process& operator=(const Process&) = delete;
    void kill_now();  // SIGKILL and reap
    // Exit code (128+signal when killed) if it exits within `seconds`; nullopt while it runs.
    std::optional<int> wait_exit(double seconds);
    std::string log_tail(std::size_t bytes = 2000) const;

  private:
    pid_t pid_ = -1;
    std::optional<int> status_;
    std::filesystem::path log_;
};

}  // namespace trellis::ctl::testing
