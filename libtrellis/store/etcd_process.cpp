#include "store/etcd_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <sstream>

#include "core/error.hpp"

namespace fs = std::filesystem;

namespace trellis::store {
namespace {

using Clock = std::chrono::steady_clock;

bool is_executable(const fs::path& p) {
    std::error_code ec;
    return fs::is_regular_file(p, ec) && ::access(p.c_str(), X_OK) == 0;
}

}  // namespace

fs::path find_etcd_tool(std::string_view name, const std::string& explicit_path, const fs::path& self_exe,
                        std::string_view flag) {
    if (!explicit_path.empty()) {
        if (!is_executable(explicit_path))
            throw Error(Code::StoreProcessFailed, std::string(flag) + " " + explicit_path + ": not an executable file");
        return explicit_path;
    }
    std::string looked;
    if (!self_exe.empty()) {
        const fs::path beside = self_exe.parent_path() / name;
        if (is_executable(beside)) return beside;
        looked = beside.string() + ", ";
    }
    const char* path = std::getenv("PATH");
    std::stringstream dirs(path ? path : "/usr/local/bin:/usr/bin:/bin");
    for (std::string dir; std::getline(dirs, dir, ':');) {
        if (dir.empty()) continue;
        const fs::path candidate = fs::path(dir) / name;
        if (is_executable(candidate)) return candidate;
    }
    throw Error(Code::StoreProcessFailed, "cannot find the " + std::string(name) + " binary (looked at " + looked +
                                              "and on PATH): install Debian's " +
                                              (name == "etcd" ? "etcd-server" : "etcd-client") + " or pass " +
                                              std::string(flag));
}

fs::path find_etcd_binary(const std::string& explicit_path, const fs::path& self_exe) {
    return find_etcd_tool("etcd", explicit_path, self_exe, "--etcd-binary");
}

fs::path self_executable() {
    std::error_code ec;
    const fs::path self = fs::read_symlink("/proc/self/exe", ec);
    return ec ? fs::path() : self;
}

std::string describe_status(int status) {
    if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
    if (WIFSIGNALED(status)) {
        const int sig = WTERMSIG(status);
        const char* name = sigabbrev_np(sig);
        return "was killed by signal " + std::to_string(sig) + (name ? std::string(" (SIG") + name + ")" : "");
    }
    return "stopped (status " + std::to_string(status) + ")";
}

EtcdProcess::EtcdProcess(ProcessOptions options) : options_(std::move(options)) {}

EtcdProcess::~EtcdProcess() {
    try {
        stop(std::chrono::seconds(5));
    } catch (...) {
    }
}

void EtcdProcess::start() {
    // Again after stop() (a rollout restarts etcd to read a changed trust bundle), never while it runs.
    if (pid_ > 0 && !status_) throw Error(Code::Internal, "etcd process started twice");
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0)
        throw Error(Code::StoreProcessFailed,
                    std::string("cannot create a pipe for etcd's log: ") + std::strerror(errno));
    // Everything the child needs is prepared before fork: after it only async-signal-safe calls.
    std::vector<std::string> storage{options_.binary.string()};
    storage.insert(storage.end(), options_.arguments.begin(), options_.arguments.end());
    std::vector<char*> argv;
    for (auto& s : storage) argv.push_back(s.data());
    argv.push_back(nullptr);
    // The backend's environment without NOTIFY_SOCKET: under a Type=notify unit etcd would tell systemd
    // READY=1 itself, as soon as it serves, before the backend's API listens.
    std::vector<std::string> env_storage;
    for (char** e = environ; *e != nullptr; ++e)
        if (!std::string_view(*e).starts_with("NOTIFY_SOCKET=")) env_storage.emplace_back(*e);
    std::vector<char*> envp;
    for (auto& e : env_storage) envp.push_back(e.data());
    envp.push_back(nullptr);
    const pid_t parent = ::getpid();

    const pid_t pid = ::fork();
    if (pid < 0) {
        ::close(fds[0]);
        ::close(fds[1]);
        throw Error(Code::StoreProcessFailed, std::string("cannot fork etcd: ") + std::strerror(errno));
    }
    if (pid == 0) {
        // SIGKILL, not SIGTERM: a supervisor that was killed cannot tell etcd to stop, and a
        // hung shutdown would leave exactly the orphan this prevents. etcd's WAL makes it safe.
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (::getppid() != parent) ::_exit(127);  // the parent died before prctl took effect
        // The supervisor blocks SIGTERM/SIGINT to take them synchronously; etcd must not inherit that.
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        ::signal(SIGPIPE, SIG_DFL);
        // Own process group: a terminal's Ctrl-C reaches the backend, which then stops etcd in order.
        ::setpgid(0, 0);
        const int devnull = ::open("/dev/null", O_RDONLY);
        if (devnull >= 0) ::dup2(devnull, 0);
        ::dup2(fds[1], 1);
        ::dup2(fds[1], 2);
        ::execve(argv[0], argv.data(), envp.data());
        static const char msg[] = "cannot execute the etcd binary\n";
        [[maybe_unused]] auto n = ::write(2, msg, sizeof msg - 1);
        ::_exit(127);
    }
    ::close(fds[1]);
    pid_ = pid;
    status_.reset();
    reader_ = std::thread([this, fd = fds[0]] { pump(fd); });
}

void EtcdProcess::pump(int fd) {
    std::string pending;
    char buf[8192];
    const auto emit = [this](std::string line) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        const std::string shown = options_.log_prefix + line;
        if (options_.on_line)
            options_.on_line(shown);
        else
            std::cerr << shown + "\n" << std::flush;
        std::lock_guard lock(lines_mutex_);
        lines_.push_back(std::move(line));
        while (lines_.size() > options_.keep_lines) lines_.pop_front();
    };
    for (;;) {
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        pending.append(buf, static_cast<std::size_t>(n));
        for (std::size_t nl; (nl = pending.find('\n')) != std::string::npos;) {
            emit(pending.substr(0, nl));
            pending.erase(0, nl + 1);
        }
    }
    if (!pending.empty()) emit(pending);
    ::close(fd);
}

std::optional<int> EtcdProcess::exit_status() {
    if (status_ || pid_ <= 0) return status_;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        status_ = status;
        ::kill(-pid_, SIGKILL);                  // anything it left in its process group would hold the log pipe open
        if (reader_.joinable()) reader_.join();  // the child's end is closed: the reader drains and ends
    }
    return status_;
}

bool EtcdProcess::running() { return pid_ > 0 && !exit_status(); }

void EtcdProcess::wait_ready(const std::function<bool()>& ready, std::chrono::milliseconds timeout,
                             std::chrono::milliseconds interval) {
    const auto deadline = Clock::now() + timeout;
    for (;;) {
        if (!running()) throw Error(Code::StoreProcessFailed, "etcd " + describe_exit());
        if (ready()) return;
        if (Clock::now() + interval > deadline) break;
        std::this_thread::sleep_for(interval);
    }
    throw Error(
        Code::StoreProcessFailed, "etcd did not become ready within " + std::to_string(timeout.count() / 1000) +
                                      " s (a new cluster needs a quorum of its members started)" + [&] {
                                          std::string tail;
                                          for (const auto& l : last_lines()) tail += "\n  " + l;
                                          return tail.empty() ? std::string() : "; its last lines:" + tail;
                                      }());
}

int EtcdProcess::stop(std::chrono::milliseconds grace) {
    if (pid_ <= 0) return 0;
    if (!exit_status()) {
        ::kill(pid_, SIGTERM);
        const auto deadline = Clock::now() + grace;
        while (!exit_status() && Clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(20));
        if (!status_) {
            ::kill(pid_, SIGKILL);
            int status = 0;
            while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
            }
            status_ = status;
            ::kill(-pid_, SIGKILL);
        }
    }
    if (reader_.joinable()) reader_.join();
    return *status_;
}

std::vector<std::string> EtcdProcess::last_lines() const {
    std::lock_guard lock(lines_mutex_);
    return {lines_.begin(), lines_.end()};
}

std::string EtcdProcess::describe_exit() const {
    std::string text = status_ ? describe_status(*status_) : "is still running";
    const auto lines = last_lines();
    if (!lines.empty()) {
        text += "; its last lines:";
        for (const auto& l : lines) text += "\n  " + l;
    }
    return text;
}

}  // namespace trellis::store
