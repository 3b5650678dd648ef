// Real trellis-backend nodes for tests: a child process whose output goes to a log file and
// which is stopped and reaped whatever the test does, and a cluster provisioned by the built
// cluster-config as an operator would. Shared by tests/backend, tests/ctl and bench/.
#pragma once

#include <httplib.h>
#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "support.hpp"

namespace trellis::testing {

class ChildProcess {
  public:
    // Starts argv[0] (a path; no shell) with stdin from /dev/null and stdout and stderr appended
    // to `log`; `extra_env` ("NAME=value") is added to this process's environment.
    ChildProcess(const std::vector<std::string>& argv, std::filesystem::path log,
                 const std::vector<std::string>& extra_env = {});
    // If it still runs: SIGTERM (a backend then stops its etcd), SIGKILL after 15 s; always reaped.
    ~ChildProcess();
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;

    pid_t pid() const { return pid_; }
    void signal(int sig) const;
    void kill_now();  // SIGKILL and reap
    // The exit code (128+signal when killed) if it exits within `seconds`; nullopt while it runs.
    std::optional<int> wait_exit(double seconds);
    std::string log() const;
    std::string log_tail(std::size_t bytes = 2000) const;

  private:
    pid_t pid_ = -1;
    std::optional<int> status_;
    std::filesystem::path log_;
};

// Pids of live etcd processes whose command line mentions `needle` (a test's temp or state dir).
std::vector<pid_t> etcd_pids_mentioning(const std::string& needle);

// `cluster-config provision SPEC --out out` run in `dir`, then the nodes started from the files it
// wrote: each node's backend.yml as rendered (only its state-dir moved into `dir`), the admin
// client's certificate for etcdctl and the API.
class ProvisionedCluster {
  public:
    // Throws std::runtime_error with cluster-config's stderr when provisioning fails.
    ProvisionedCluster(const std::filesystem::path& spec, std::filesystem::path dir);

    const std::filesystem::path& dir() const { return dir_; }
    std::filesystem::path out() const { return dir_ / "out"; }
    // The spec's nodes, in its order.
    const std::vector<std::string>& nodes() const { return nodes_; }
    // out/<node>/backend.yml; also for a node added later (cluster-config add-node, member-add --render).
    std::filesystem::path config(const std::string& node) const;
    // <dir>/state-<node>, or <root>/<node> after use_state_root(root) (cluster-config restore's layout).
    std::filesystem::path state_dir(const std::string& node) const {
        return state_root_.empty() ? dir_ / ("state-" + node) : state_root_ / node;
    }
    void use_state_root(std::filesystem::path root) { state_root_ = std::move(root); }
    std::filesystem::path log(const std::string& node) const { return dir_ / (node + ".log"); }

    // The admin client's files (out/clients/admin/), and the CA's (out/ca/) for issuing test certs.
    std::filesystem::path admin_ca() const { return out() / "clients" / "admin" / "ca.pem"; }
    std::filesystem::path admin_cert() const { return out() / "clients" / "admin" / "admin.pem"; }
    std::filesystem::path admin_key() const { return out() / "clients" / "admin" / "admin-key.pem"; }
    std::filesystem::path ca_cert() const { return out() / "ca" / "ca.pem"; }
    std::filesystem::path ca_key() const { return out() / "ca" / "ca-key.pem"; }

    // trellis-backend start --config <config(node)> --state-dir <state_dir(node)> <extra...>, logging to log(node).
    std::unique_ptr<ChildProcess> start(const std::string& node, const std::vector<std::string>& extra = {}) const;
    // The node's api-url and etcd client URL, as its rendered backend.yml says.
    std::string api_url(const std::string& node) const;
    std::string client_url(const std::string& node) const;
    // An HTTPS client for the node's API with the admin certificate, verifying the server.
    std::unique_ptr<httplib::Client> api(const std::string& node) const;
    // trellisctl with the admin certificate and every node's API URL (--timeout 10s), bounded, run in dir().
    RunResult trellisctl(const std::vector<std::string>& args, int timeout_seconds = 60) const;
    // etcdctl with the admin certificate against the node's client URL (bounded).
    RunResult etcdctl(const std::string& node, const std::vector<std::string>& args) const;

  private:
    std::filesystem::path dir_;
    std::filesystem::path state_root_;
    std::vector<std::string> nodes_;
};

// Every key under `prefix` with its value, read with etcdctl through `node`'s own client URL
// (linearizable); std::runtime_error with etcdctl's stderr when the read fails.
std::map<std::string, std::string> read_prefix(const ProvisionedCluster& cluster, const std::string& node,
                                               const std::string& prefix);
// How many keys of `acked` (all under `prefix`) are not on `node` with their value: 0 when all are there.
std::size_t missing_keys(const ProvisionedCluster& cluster, const std::string& node, const std::string& prefix,
                         const std::map<std::string, std::string>& acked);

// The decimal serial of the certificate in `cert` (as trellisctl certs and the API's denials print it).
std::string serial_of(const std::filesystem::path& cert);

// A /health body that lists exactly `n` members, all healthy.
bool all_healthy(const nlohmann::json& body, std::size_t n);
// Waits (bounded by `limit`) until /health answers 200 with `n` healthy members.
bool wait_healthy(httplib::Client& client, std::size_t n, std::chrono::seconds limit);

// The cluster's view of its quorum during a day-2 step: every 100 ms, on its own thread, the most healthy
// members any node's /health reports (a node whose own etcd is restarting cannot ask it, and reports
// none); at most `max_samples` samples, each bounded by /health's 2 s per node. The destructor stops it.
class QuorumSampler {
  public:
    QuorumSampler(const ProvisionedCluster& cluster, int max_samples);
    ~QuorumSampler() { stop(); }
    QuorumSampler(const QuorumSampler&) = delete;
    QuorumSampler& operator=(const QuorumSampler&) = delete;
    void stop();
    std::size_t fewest_healthy() const { return fewest_; }
    std::size_t samples() const { return samples_; }

  private:
    std::atomic<bool> done_{false};
    std::atomic<std::size_t> fewest_, samples_{0};  // fewest_: the node count until sampled
    std::thread thread_;
};

// GET /health?timeout=N: status and body (status 0 and {"transport": why} when nothing answered).
std::pair<int, nlohmann::json> get_health(httplib::Client& client, int timeout = 3);

}  // namespace trellis::testing
