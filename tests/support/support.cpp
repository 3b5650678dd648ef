#include "support.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <stdexcept>

extern char** environ;

namespace fs = std::filesystem;

namespace trellis::testing {

TempDir::TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "trellis-test-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
}

TempDir::~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
}

static std::string env_or(const char* name, const std::string& fallback) {
    const char* v = std::getenv(name);
    return v ? v : fallback;
}

fs::path build_path(const std::string& relative) { return fs::path(env_or("TRELLIS_BUILD_ROOT", ".")) / relative; }
fs::path data_path(const std::string& relative) {
    return fs::path(env_or("TRELLIS_TEST_DATA", "tests/data")) / relative;
}
fs::path source_path(const std::string& relative) { return fs::path(env_or("TRELLIS_SOURCE_ROOT", ".")) / relative; }

bool update_golden() {
    const char* value = std::getenv("TRELLIS_UPDATE_GOLDEN");
    return value != nullptr && std::string_view(value) == "1";
}

std::string slurp(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + path.string());
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void spit(const fs::path& path, const std::string& data) {
    std::ofstream out(path, std::ios::binary);
    out << data;
    if (!out) throw std::runtime_error("cannot write " + path.string());
}

RunResult run(const std::vector<std::string>& argv, const std::string& input, const fs::path& cwd,
              int timeout_seconds) {
    int in_pipe[2], out_pipe[2], err_pipe[2];
    if (::pipe2(in_pipe, O_CLOEXEC) || ::pipe2(out_pipe, O_CLOEXEC) || ::pipe2(err_pipe, O_CLOEXEC))
        throw std::runtime_error("pipe failed");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in_pipe[0], 0);
    posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
    posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
    if (!cwd.empty()) posix_spawn_file_actions_addchdir_np(&actions, cwd.c_str());
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    pid_t pid;
    const int rc = ::posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(in_pipe[0]);
    ::close(out_pipe[1]);
    ::close(err_pipe[1]);
    if (rc != 0) {
        ::close(in_pipe[1]);
        ::close(out_pipe[0]);
        ::close(err_pipe[0]);
        throw std::runtime_error("cannot start " + argv[0]);
    }
    ::signal(SIGPIPE, SIG_IGN);
    size_t written = 0;
    if (input.empty()) {
        ::close(in_pipe[1]);
        in_pipe[1] = -1;
    }
    RunResult result;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_seconds);
    bool out_open = true, err_open = true, timed_out = false;
    while (out_open || err_open) {
        std::vector<pollfd> fds;
        if (out_open) fds.push_back({out_pipe[0], POLLIN, 0});
        if (err_open) fds.push_back({err_pipe[0], POLLIN, 0});
        if (in_pipe[1] >= 0) fds.push_back({in_pipe[1], POLLOUT, 0});
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
        if (left <= 0) {
            timed_out = true;
            ::kill(pid, SIGKILL);
            break;
        }
        if (::poll(fds.data(), fds.size(), static_cast<int>(left)) < 0) continue;
        for (const auto& p : fds) {
            if (p.revents == 0) continue;
            if (p.fd == in_pipe[1]) {
                const ssize_t n = ::write(in_pipe[1], input.data() + written, input.size() - written);
                if (n > 0) written += static_cast<size_t>(n);
                if (n < 0 || written == input.size()) {
                    ::close(in_pipe[1]);
                    in_pipe[1] = -1;
                }
                continue;
            }
            char buf[65536];
            const ssize_t n = ::read(p.fd, buf, sizeof buf);
            std::string& sink = p.fd == out_pipe[0] ? result.out : result.err;
            if (n > 0) {
                sink.append(buf, static_cast<size_t>(n));
            } else {
                (p.fd == out_pipe[0] ? out_open : err_open) = false;
            }
        }
    }
    if (in_pipe[1] >= 0) ::close(in_pipe[1]);
    ::close(out_pipe[0]);
    ::close(err_pipe[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (timed_out)
        result.exit_code = 124;
    else if (WIFEXITED(status))
        result.exit_code = WEXITSTATUS(status);
    else
        result.exit_code = 128 + WTERMSIG(status);
    return result;
}

}  // namespace trellis::testing

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/file.h>
#include <sys/socket.h>

#include <thread>

namespace trellis::testing {

bool accepts_connections(const std::string& host, int port) {
    const int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    ::inet_pton(AF_INET, host.c_str(), &addr.sin_addr);
    const bool accepted = ::connect(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(s);
    return accepted;
}

LoopbackLock::LoopbackLock(int max_wait_seconds) {
    fd_ = ::open("/tmp/trellis-test-loopback-11-14.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (fd_ < 0) throw std::runtime_error("cannot open loopback lock file");
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(max_wait_seconds);
    while (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
        if (std::chrono::steady_clock::now() > deadline)
            throw std::runtime_error("timed out waiting for the loopback lock");
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    // Holding the lock is not enough if something outside the tests (the README's demo
    // cluster) already listens there: say so instead of failing later with "address in use".
    for (const char* host : {"127.0.0.11", "127.0.0.12", "127.0.0.13", "127.0.0.14"})
        for (const int port : {2379, 2380, 8080}) {
            if (accepts_connections(host, port)) {
                ::close(fd_);
                throw std::runtime_error(std::string("something already listens on ") + host + ":" +
                                         std::to_string(port) +
                                         " (the demo cluster? stop it with: bash scripts/demo.sh --stop)");
            }
        }
}

LoopbackLock::~LoopbackLock() {
    if (fd_ >= 0) ::close(fd_);  // closing releases the flock
}

}  // namespace trellis::testing
