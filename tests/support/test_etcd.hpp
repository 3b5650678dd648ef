// A real etcd member for tests, supervised by store::EtcdProcess (as the backend runs it):
// plain http or mTLS, alone or in a cluster, from a spec or from a rendered command line,
// with its data in a scratch directory and always stopped when the object goes away.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "store/etcd_client.hpp"
#include "store/etcd_process.hpp"
#include "test_pki.hpp"

namespace trellis::testing {

struct TestEtcdSpec {
    std::string name = "s1";
    std::string ip = "127.0.0.41";
    int client_port = 2379;
    int peer_port = 2380;
    std::string initial_cluster;  // empty: just this member
    std::string token = "trellis-test";
    std::optional<TestPair> tls;  // server+client cert used for both client and peer sides
    std::optional<TestCa> ca;
};

class TestEtcd {
  public:
    TestEtcd(const std::filesystem::path& data_dir, TestEtcdSpec spec);
    // etcd exactly as `arguments` say (e.g. BackendConfig::etcd_arguments() of a rendered backend.yml);
    // the URLs come from its --advertise-client-urls and --initial-advertise-peer-urls (the first of each).
    TestEtcd(std::string name, std::vector<std::string> arguments);
    std::string client_url() const { return client_url_; }
    std::string peer_url() const { return peer_url_; }
    store::EtcdProcess& process() { return *process_; }
    void start();
    // Waits (bounded) until a linearizable read succeeds on this member; Code::StoreProcessFailed
    // with etcd's last lines when it exits or the time is up.
    void wait_ready(const store::TlsFiles& tls = {}, int seconds = 30);
    // etcd's last lines, one per line, for failure messages.
    std::string log_tail() const;

  private:
    std::string name_;
    std::string client_url_;
    std::string peer_url_;
    std::unique_ptr<store::EtcdProcess> process_;
};

// The etcd command line for `spec` (what an operator would type).
std::vector<std::string> test_etcd_arguments(const TestEtcdSpec& spec, const std::filesystem::path& data_dir);

}  // namespace trellis::testing
