// A real etcd member for tests, supervised by store::EtcdProcess: plain http or mTLS,
// alone or as part of a cluster, with its data in a scratch directory.
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
    std::string scheme() const { return spec_.tls ? "https" : "http"; }
    std::string client_url() const;
    std::string peer_url() const;
    store::EtcdProcess& process() { return *process_; }
    void start();
    // Waits (bounded) until a linearizable read succeeds on this member.
    void wait_ready(const store::TlsFiles& tls = {}, int seconds = 30);

  private:
    TestEtcdSpec spec_;
    std::unique_ptr<store::EtcdProcess> process_;
};

// The etcd command line for `spec` (what an operator would type).
std::vector<std::string> test_etcd_arguments(const TestEtcdSpec& spec, const std::filesystem::path& data_dir);

}  // namespace trellis::testing
