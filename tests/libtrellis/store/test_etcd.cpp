#include "test_etcd.hpp"

#include "store/health.hpp"

namespace trellis::testing {

std::vector<std::string> test_etcd_arguments(const TestEtcdSpec& s, const std::filesystem::path& data_dir) {
    const std::string scheme = s.tls ? "https" : "http";
    const std::string client = scheme + "://" + s.ip + ":" + std::to_string(s.client_port);
    const std::string peer = scheme + "://" + s.ip + ":" + std::to_string(s.peer_port);
    std::vector<std::string> args{
        "--name=" + s.name,
        "--data-dir=" + data_dir.string(),
        "--listen-client-urls=" + client,
        "--advertise-client-urls=" + client,
        "--listen-peer-urls=" + peer,
        "--initial-advertise-peer-urls=" + peer,
        "--initial-cluster=" + (s.initial_cluster.empty() ? s.name + "=" + peer : s.initial_cluster),
        "--initial-cluster-state=new",
        "--initial-cluster-token=" + s.token,
        "--heartbeat-interval=50",
        "--election-timeout=500",
    };
    if (s.tls) {
        const std::string cert = s.tls->cert.string(), key = s.tls->key.string(), ca = s.ca->cert.string();
        for (const auto& a : {"--cert-file=" + cert, "--key-file=" + key, "--trusted-ca-file=" + ca,
                              std::string("--client-cert-auth"), "--peer-cert-file=" + cert, "--peer-key-file=" + key,
                              "--peer-trusted-ca-file=" + ca, std::string("--peer-client-cert-auth")})
            args.push_back(a);
    }
    return args;
}

TestEtcd::TestEtcd(const std::filesystem::path& data_dir, TestEtcdSpec spec) : spec_(std::move(spec)) {
    store::ProcessOptions options;
    options.binary = "/usr/bin/etcd";
    options.arguments = test_etcd_arguments(spec_, data_dir);
    options.log_prefix = "[etcd " + spec_.name + "] ";
    options.on_line = [](std::string_view) {};  // keep test output readable; last_lines() has them
    process_ = std::make_unique<store::EtcdProcess>(std::move(options));
}

std::string TestEtcd::client_url() const { return scheme() + "://" + spec_.ip + ":" + std::to_string(spec_.client_port); }
std::string TestEtcd::peer_url() const { return scheme() + "://" + spec_.ip + ":" + std::to_string(spec_.peer_port); }

void TestEtcd::start() { process_->start(); }

void TestEtcd::wait_ready(const store::TlsFiles& tls, int seconds) {
    store::ClientOptions options{{client_url()}, tls, std::chrono::milliseconds(500), std::chrono::milliseconds(1000)};
    store::Member self{0, spec_.name, {}, {client_url()}, false};
    process_->wait_ready([&] { return store::check_member(self, options, std::chrono::milliseconds(1000)).healthy; },
                         std::chrono::seconds(seconds));
}

}  // namespace trellis::testing
