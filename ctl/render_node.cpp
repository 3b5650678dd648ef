#include "render_node.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <cstdlib>

#include "core/error.hpp"
#include "store/url.hpp"

extern char** environ;

namespace fs = std::filesystem;

namespace trellis::ctl {
namespace {

// Issuing one certificate takes well under a second; this only bounds a hung child.
constexpr auto kRenderTimeout = std::chrono::seconds(120);

struct Outcome {
    int exit_code = -1;
    std::string err;
};

// Runs argv without a shell, stderr captured (stdout passed through to ours is not wanted: our stdout is
// the command's result), killed after the deadline.
Outcome run_bounded(const std::vector<std::string>& argv) {
    int err_pipe[2];
    if (::pipe2(err_pipe, O_CLOEXEC) != 0) throw Error(Code::Internal, "pipe failed");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    pid_t pid = 0;
    const int rc = ::posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(err_pipe[1]);
    if (rc != 0) {
        ::close(err_pipe[0]);
        throw Error(Code::FileReadFailed, "cannot run " + argv[0] + ": " + std::strerror(rc));
    }
    Outcome outcome;
    const auto deadline = std::chrono::steady_clock::now() + kRenderTimeout;
    bool timed_out = false;
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            timed_out = true;
            break;
        }
        pollfd pfd{err_pipe[0], POLLIN, 0};
        if (::poll(&pfd, 1, static_cast<int>(left.count())) <= 0) continue;
        char buf[4096];
        const ssize_t n = ::read(err_pipe[0], buf, sizeof buf);
        if (n <= 0) break;
        outcome.err.append(buf, static_cast<std::size_t>(n));
    }
    ::close(err_pipe[0]);
    if (timed_out) ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (timed_out) throw Error(Code::Internal, argv[0] + " did not finish within 120 s and was stopped");
    outcome.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return outcome;
}

fs::path on_path(const std::string& name) {
    const char* path = std::getenv("PATH");
    if (path == nullptr) return {};
    std::string_view rest = path;
    while (!rest.empty()) {
        const auto colon = rest.find(':');
        const fs::path candidate = fs::path(std::string(rest.substr(0, colon))) / name;
        if (::access(candidate.c_str(), X_OK) == 0) return candidate;
        if (colon == std::string_view::npos) break;
        rest.remove_prefix(colon + 1);
    }
    return {};
}

std::string last_line(std::string text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    const auto nl = text.rfind('\n');
    return nl == std::string::npos ? text : text.substr(nl + 1);
}

}  // namespace

void RenderedNode::undo() const {
    if (!created) return;
    std::error_code ec;
    fs::remove_all(dir, ec);
}

fs::path find_cluster_config(const fs::path& self) {
    const fs::path dir = self.parent_path();
    for (const fs::path& candidate : {dir / "cluster-config", dir / ".." / "cluster-config" / "cluster-config"})
        if (!dir.empty() && ::access(candidate.c_str(), X_OK) == 0) return candidate.lexically_normal();
    return on_path("cluster-config");
}

RenderedNode render_node(const fs::path& spec, const fs::path& out, const std::string& name,
                         const std::string& peer_url, const fs::path& self) {
    const store::Url url = store::parse_url(peer_url, "PEER-URLS");
    const fs::path tool = find_cluster_config(self);
    if (tool.empty())
        throw Error(Code::FileReadFailed,
                    "--render: cluster-config not found next to trellisctl or on PATH; install it or render the node "
                    "yourself with `cluster-config add-node`");
    RenderedNode node;
    node.dir = out / name;
    node.created = !fs::exists(node.dir);
    const Outcome outcome = run_bounded({tool.string(), "add-node", spec.string(), "--name", name, "--address",
                                         url.host, "--out", out.string()});
    if (outcome.exit_code != 0) {
        node.undo();
        const std::string why = last_line(outcome.err);
        throw Error(outcome.exit_code == 2 ? Code::Usage : Code::SpecInvalid,
                    "--render: cluster-config add-node failed, nothing was added to the cluster: " +
                        (why.empty() ? "exit " + std::to_string(outcome.exit_code) : why));
    }
    if (!fs::exists(node.dir / "backend.yml")) {
        node.undo();
        throw Error(Code::FileReadFailed, "--render: cluster-config add-node wrote no " +
                                              (node.dir / "backend.yml").string() + "; nothing was added to the cluster");
    }
    for (const auto& entry : fs::recursive_directory_iterator(node.dir))
        if (entry.is_regular_file()) node.files.push_back(entry.path());
    std::sort(node.files.begin(), node.files.end());
    return node;
}

}  // namespace trellis::ctl
