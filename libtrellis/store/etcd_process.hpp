// Supervision of an etcd child process: find the binary, start it with its logs
// passed through line by line under a prefix, wait until it serves, notice when
// it dies (keeping its last lines for the report), and stop it cleanly. The child
// is tied to the parent's lifetime (PR_SET_PDEATHSIG), so it never outlives a
// killed supervisor.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace trellis::store {

// The etcd binary: `explicit_path` if given (must be executable), else "etcd" next to
// `self_exe`, else on PATH. Code::StoreProcessFailed saying where it looked otherwise.
std::filesystem::path find_etcd_binary(const std::string& explicit_path, const std::filesystem::path& self_exe);
// Any of etcd's binaries ("etcdctl") found the same way; `flag` is the option that names it explicitly.
std::filesystem::path find_etcd_tool(std::string_view name, const std::string& explicit_path,
                                     const std::filesystem::path& self_exe, std::string_view flag);
// This process's executable (/proc/self/exe), "" if unknown: where the tools look for etcd first.
std::filesystem::path self_executable();

struct ProcessOptions {
    std::filesystem::path binary;
    std::vector<std::string> arguments;  // without argv[0]
    std::string log_prefix = "[etcd] ";
    std::size_t keep_lines = 50;
    // Where each prefixed line goes; default: standard error.
    std::function<void(std::string_view line)> on_line;
};

class EtcdProcess {
  public:
    explicit EtcdProcess(ProcessOptions options);
    ~EtcdProcess();  // stop() with a short grace period if still running
    EtcdProcess(const EtcdProcess&) = delete;
    EtcdProcess& operator=(const EtcdProcess&) = delete;

    // Starts the child. PR_SET_PDEATHSIG fires when the *thread* that forked exits,
    // so call this from a thread that lives as long as the process (main).
    void start();
    pid_t pid() const { return pid_; }
    bool running();
    // The exit status once it has exited (as from waitpid), without blocking.
    std::optional<int> exit_status();
    // Polls `ready` every `interval` until it returns true, the child exits, or `timeout`
    // passes. Code::StoreProcessFailed with the last log lines when it exits or times out.
    void wait_ready(const std::function<bool()>& ready, std::chrono::milliseconds timeout,
                    std::chrono::milliseconds interval = std::chrono::milliseconds(100));
    // SIGTERM, then SIGKILL after `grace`. Returns the exit status; idempotent.
    int stop(std::chrono::milliseconds grace = std::chrono::seconds(10));
    std::vector<std::string> last_lines() const;
    // "etcd exited with status 1" / "etcd was killed by signal 9", plus the last lines, one per line.
    std::string describe_exit() const;

  private:
    void pump(int fd);

    ProcessOptions options_;
    pid_t pid_ = -1;
    std::optional<int> status_;
    std::thread reader_;
    mutable std::mutex lines_mutex_;
    std::deque<std::string> lines_;
};

// "exited with status N" / "killed by signal N (SIGKILL)" for a waitpid status.
std::string describe_status(int status);

}  // namespace trellis::store
