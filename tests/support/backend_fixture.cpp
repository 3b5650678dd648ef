#include "backend_fixture.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "cluster/backend_config.hpp"
#include "cluster/spec.hpp"
#include "core/files.hpp"
#include "pki/certificate.hpp"

extern char** environ;

namespace fs = std::filesystem;

namespace trellis::testing {

ChildProcess::ChildProcess(const std::vector<std::string>& argv, fs::path log,
                           const std::vector<std::string>& extra_env)
    : log_(std::move(log)) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, log_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    std::vector<std::string> env_storage;
    for (char** e = environ; *e; ++e) env_storage.emplace_back(*e);
    env_storage.insert(env_storage.end(), extra_env.begin(), extra_env.end());
    std::vector<char*> env;
    for (auto& e : env_storage) env.push_back(e.data());
    env.push_back(nullptr);
    const int rc = ::posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), env.data());
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) throw std::runtime_error("cannot start " + argv[0]);
}

ChildProcess::~ChildProcess() {
    if (pid_ <= 0 || status_) return;
    ::kill(pid_, SIGTERM);
    if (!wait_exit(15)) kill_now();
}

void ChildProcess::signal(int sig) const {
    if (pid_ > 0 && !status_) ::kill(pid_, sig);
}

void ChildProcess::kill_now() {
    if (pid_ <= 0 || status_) return;
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    status_ = 128 + SIGKILL;
}

std::optional<int> ChildProcess::wait_exit(double seconds) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (!status_) {
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
            status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            break;
        }
        if (std::chrono::steady_clock::now() > deadline) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return status_;
}

std::string ChildProcess::log() const {
    std::ifstream in(log_);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string ChildProcess::log_tail(std::size_t bytes) const {
    const std::string text = log();
    return text.size() > bytes ? text.substr(text.size() - bytes) : text;
}

std::vector<pid_t> etcd_pids_mentioning(const std::string& needle) {
    std::vector<pid_t> out;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator("/proc", ec)) {
        const std::string name = entry.path().filename();
        if (name.find_first_not_of("0123456789") != std::string::npos) continue;
        std::string cmdline;
        try {
            std::ifstream in(entry.path() / "cmdline");
            cmdline.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
        } catch (const std::exception&) {
            continue;  // exited while we read (libstdc++ throws from underflow on ESRCH)
        }
        if (cmdline.empty()) continue;  // exited, or a zombie
        const std::string argv0 = cmdline.substr(0, cmdline.find('\0'));
        if (fs::path(argv0).filename() == "etcd" && cmdline.find(needle) != std::string::npos)
            out.push_back(std::stoi(name));
    }
    return out;
}

namespace {

cluster::BackendConfig rendered_config(const fs::path& path) {
    return cluster::BackendConfig::from_yaml(read_file(path), path.string());
}

}  // namespace

ProvisionedCluster::ProvisionedCluster(const fs::path& spec_path, fs::path dir) : dir_(std::move(dir)) {
    const fs::path spec = fs::absolute(spec_path);  // provision runs in dir_
    const RunResult r =
        run({build_path("cluster-config/cluster-config").string(), "provision", spec.string(), "--out", "out"}, {},
            dir_, 120);
    if (r.exit_code != 0)
        throw std::runtime_error("cluster-config provision " + spec.string() + " exited " +
                                 std::to_string(r.exit_code) + ": " + r.err);
    Warnings warnings;
    for (const auto& node : cluster::load_spec(read_file(spec), spec.string(), warnings).nodes)
        nodes_.push_back(node.name);
}

fs::path ProvisionedCluster::config(const std::string& node) const { return out() / node / "backend.yml"; }

std::unique_ptr<ChildProcess> ProvisionedCluster::start(const std::string& node,
                                                        const std::vector<std::string>& extra) const {
    std::vector<std::string> argv{build_path("backend/trellis-backend").string(),
                                  "start",
                                  "--config",
                                  config(node).string(),
                                  "--state-dir",
                                  state_dir(node).string()};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return std::make_unique<ChildProcess>(argv, log(node));
}

std::string ProvisionedCluster::api_url(const std::string& node) const {
    return rendered_config(config(node)).get(cluster::Key::ApiUrl);
}

std::string ProvisionedCluster::client_url(const std::string& node) const {
    return rendered_config(config(node)).get_list(cluster::Key::EtcdAdvertiseClientUrls).front();
}

std::unique_ptr<httplib::Client> ProvisionedCluster::api(const std::string& node) const {
    auto client = std::make_unique<httplib::Client>(api_url(node), admin_cert().string(), admin_key().string());
    client->set_ca_cert_path(admin_ca().string());
    client->enable_server_certificate_verification(true);
    client->set_connection_timeout(2, 0);
    client->set_read_timeout(35, 0);
    return client;
}

RunResult ProvisionedCluster::trellisctl(const std::vector<std::string>& args, int timeout_seconds) const {
    std::string urls;
    for (const auto& n : nodes_) urls += (urls.empty() ? "" : ",") + api_url(n);
    std::vector<std::string> argv{build_path("ctl/trellisctl").string(),
                                  "--url",
                                  urls,
                                  "--trusted-ca-file",
                                  admin_ca().string(),
                                  "--cert-file",
                                  admin_cert().string(),
                                  "--key-file",
                                  admin_key().string(),
                                  "--timeout",
                                  "10s"};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv, {}, dir_, timeout_seconds);
}

RunResult ProvisionedCluster::etcdctl(const std::string& node, const std::vector<std::string>& args) const {
    std::vector<std::string> argv{"/usr/bin/etcdctl",
                                  "--endpoints=" + client_url(node),
                                  "--cacert=" + admin_ca().string(),
                                  "--cert=" + admin_cert().string(),
                                  "--key=" + admin_key().string(),
                                  "--dial-timeout=3s",
                                  "--command-timeout=5s"};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv, {}, {}, 20);
}

std::map<std::string, std::string> read_prefix(const ProvisionedCluster& cluster, const std::string& node,
                                               const std::string& prefix) {
    const RunResult r = cluster.etcdctl(node, {"get", prefix, "--prefix"});
    if (r.exit_code != 0) throw std::runtime_error(node + ": etcdctl get failed: " + r.err);
    std::map<std::string, std::string> out;
    std::istringstream lines(r.out);
    for (std::string key, value; std::getline(lines, key) && std::getline(lines, value);) out[key] = value;
    return out;
}

std::size_t missing_keys(const ProvisionedCluster& cluster, const std::string& node, const std::string& prefix,
                         const std::map<std::string, std::string>& acked) {
    const auto have = read_prefix(cluster, node, prefix);
    std::size_t missing = 0;
    for (const auto& [key, value] : acked) {
        const auto it = have.find(key);
        if (it == have.end() || it->second != value) ++missing;
    }
    return missing;
}

bool all_healthy(const nlohmann::json& body, std::size_t n) {
    if (!body.contains("ClusterHealth") || body["ClusterHealth"].size() != n) return false;
    for (const auto& m : body["ClusterHealth"])
        if (!m.value("Healthy", false)) return false;
    return true;
}

namespace {

std::size_t healthy_members(const ProvisionedCluster& cluster, const std::string& node) {
    const auto [status, body] = get_health(*cluster.api(node), 2);
    std::size_t n = 0;
    for (const auto& m : body.value("ClusterHealth", nlohmann::json::array())) n += m.value("Healthy", false) ? 1 : 0;
    return n;
}

}  // namespace

QuorumSampler::QuorumSampler(const ProvisionedCluster& cluster, int max_samples)
    : fewest_(cluster.nodes().size()), thread_([this, &cluster, max_samples] {
          for (int i = 0; i < max_samples && !done_; ++i) {
              std::size_t h = 0;
              for (const auto& n : cluster.nodes()) h = std::max(h, healthy_members(cluster, n));
              if (h < fewest_) fewest_ = h;
              ++samples_;
              std::this_thread::sleep_for(std::chrono::milliseconds(100));
          }
      }) {}

void QuorumSampler::stop() {
    done_ = true;
    if (thread_.joinable()) thread_.join();
}

std::string serial_of(const std::filesystem::path& cert) {
    return pki::Certificate::from_pem(read_file(cert), cert.string()).serial_decimal();
}

bool wait_healthy(httplib::Client& client, std::size_t n, std::chrono::seconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
        const auto [status, body] = get_health(client, 2);
        if (status == 200 && all_healthy(body, n)) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    return false;
}

std::pair<int, nlohmann::json> get_health(httplib::Client& client, int timeout) {
    auto res = client.Get("/health?timeout=" + std::to_string(timeout));
    if (!res) return {0, nlohmann::json{{"transport", httplib::to_string(res.error())}}};
    return {res->status, nlohmann::json::parse(res->body, nullptr, false)};
}

}  // namespace trellis::testing
