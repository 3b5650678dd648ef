#include "cluster_fixture.hpp"

namespace trellis::testing {

ClusterLayout::ClusterLayout(std::vector<NodeSpec> nodes, const std::string& token) : nodes_(std::move(nodes)) {
    ca_ = make_test_ca(root(), "ca");
    admin_ = issue_test_cert(ca_, root(), "admin", {}, "clientAuth");
    std::string initial;
    for (const auto& n : nodes_) initial += (initial.empty() ? "" : ",") + n.name + "=https://" + n.ip + ":2380";
    for (const auto& n : nodes_) {
        const auto dir = root() / n.name;
        std::filesystem::create_directories(dir);
        issue_test_cert(ca_, dir, n.name, {n.ip, "127.0.0.1"}, "serverAuth,clientAuth");
        const std::string c = "https://" + n.ip + ":2379", p = "https://" + n.ip + ":2380";
        spit(dir / "backend.yml",
             "# " + n.name + ": relative paths resolve against this file's folder\n"
             "state-dir: state\n"
             "log-level: info\n"
             "api-listen-address: " + n.ip + ":8080\n"
             "cert-file: " + n.name + ".pem\n"
             "key-file: " + n.name + "-key.pem\n"
             "trusted-ca-file: " + ca_.cert.string() + "\n"
             "etcd-advertise-client-urls: " + c + "\n"
             "etcd-listen-client-urls: " + c + "\n"
             "etcd-listen-peer-urls: " + p + "\n"
             "etcd-initial-cluster: " + initial + "\n"
             "etcd-initial-advertise-peer-urls: " + p + "\n"
             "etcd-initial-cluster-state: new\n"
             "etcd-initial-cluster-token: " + token + "\n"
             "etcd-name: " + n.name + "\n"
             "etcd-cert-file: " + n.name + ".pem\n"
             "etcd-key-file: " + n.name + "-key.pem\n"
             "etcd-trusted-ca-file: " + ca_.cert.string() + "\n"
             "etcd-client-cert-auth: true\n"
             "etcd-peer-cert-file: " + n.name + ".pem\n"
             "etcd-peer-key-file: " + n.name + "-key.pem\n"
             "etcd-peer-trusted-ca-file: " + ca_.cert.string() + "\n"
             "etcd-peer-client-cert-auth: true\n"
             "etcd-heartbeat-interval: 50\n"
             "etcd-election-timeout: 500\n");
    }
}

std::filesystem::path ClusterLayout::config(std::size_t i) const { return root() / nodes_.at(i).name / "backend.yml"; }

std::unique_ptr<ChildProcess> ClusterLayout::start(std::size_t i, const std::vector<std::string>& extra) const {
    std::vector<std::string> argv{build_path("backend/trellis-backend").string(), "start", "--config", config(i).string(),
                                  "--etcd-ready-timeout", "60", "--stop-timeout", "5"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return std::make_unique<ChildProcess>(argv, root() / (nodes_.at(i).name + ".log"));
}

std::unique_ptr<httplib::Client> ClusterLayout::api(std::size_t i) const {
    auto client = std::make_unique<httplib::Client>("https://" + nodes_.at(i).ip + ":8080", admin_.cert.string(),
                                                    admin_.key.string());
    client->set_ca_cert_path(ca_.cert.string());
    client->enable_server_certificate_verification(true);
    client->set_connection_timeout(2, 0);
    client->set_read_timeout(35, 0);
    return client;
}

RunResult ClusterLayout::etcdctl(std::size_t i, const std::vector<std::string>& args) const {
    std::vector<std::string> argv{"/usr/bin/etcdctl", "--endpoints=https://" + nodes_.at(i).ip + ":2379",
                                  "--cacert=" + ca_.cert.string(), "--cert=" + admin_.cert.string(),
                                  "--key=" + admin_.key.string(), "--dial-timeout=3s", "--command-timeout=5s"};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv, {}, {}, 20);
}

std::pair<int, nlohmann::json> get_health(httplib::Client& client, int timeout) {
    auto res = client.Get("/health?timeout=" + std::to_string(timeout));
    if (!res) return {0, nlohmann::json{{"transport", httplib::to_string(res.error())}}};
    return {res->status, nlohmann::json::parse(res->body, nullptr, false)};
}

}  // namespace trellis::testing
