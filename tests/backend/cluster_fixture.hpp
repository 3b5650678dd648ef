// Three (or four) trellis-backend nodes on 127.0.0.11-14 with standard ports, each with
// its own backend.yml and certificates, as an operator would lay them out.
#pragma once

#include <httplib.h>

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "backend_process.hpp"
#include "support.hpp"
#include "test_pki.hpp"

namespace trellis::testing {

struct NodeSpec {
    std::string name;  // backend-1
    std::string ip;    // 127.0.0.11
};

// Certificates and a backend.yml per node under one temp dir.
class ClusterLayout {
  public:
    explicit ClusterLayout(std::vector<NodeSpec> nodes, const std::string& token = "trellis-test");
    const std::filesystem::path& root() const { return dir_.path(); }
    std::filesystem::path config(std::size_t i) const;
    const TestCa& ca() const { return ca_; }
    const TestPair& admin() const { return admin_; }
    const std::vector<NodeSpec>& nodes() const { return nodes_; }
    // Starts node i's backend with extra arguments; its log is root()/<name>.log.
    std::unique_ptr<ChildProcess> start(std::size_t i, const std::vector<std::string>& extra = {}) const;
    // An HTTPS client for node i's API with the admin certificate.
    std::unique_ptr<httplib::Client> api(std::size_t i) const;
    // etcdctl with the admin client certificate against node i; returns its result.
    RunResult etcdctl(std::size_t i, const std::vector<std::string>& args) const;

  private:
    TempDir dir_;
    std::vector<NodeSpec> nodes_;
    TestCa ca_;
    TestPair admin_;
};

// GET /health on node i (timeout seconds), status and body.
std::pair<int, nlohmann::json> get_health(httplib::Client& client, int timeout = 3);

}  // namespace trellis::testing
