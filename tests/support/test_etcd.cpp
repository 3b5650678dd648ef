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

namespace {

// The first URL of `--flag=url,url` in `arguments`; empty when the flag is missing.
std::string first_url(const std::vector<std::string>& arguments, const std::string& flag) {
    const std::string prefix = flag + "=";
    for (const auto& a : arguments)
        if (a.rfind(prefix, 0) == 0) return a.substr(prefix.size(), a.find(',') - prefix.size());
    return {};
}

}  // namespace

TestEtcd::TestEtcd(std::string name, std::vector<std::string> arguments)
    : name_(std::move(name)),
      client_url_(first_url(arguments, "--advertise-client-urls")),
      peer_url_(first_url(arguments, "--initial-advertise-peer-urls")) {
    store::ProcessOptions options;
    options.binary = "/usr/bin/etcd";
    options.arguments = std::move(arguments);
    options.log_prefix = "[etcd " + name_ + "] ";
    options.on_line = [](std::string_view) {};  // keep test output readable; log_tail() has the last lines
    process_ = std::make_unique<store::EtcdProcess>(std::move(options));
}

TestEtcd::TestEtcd(const std::filesystem::path& data_dir, TestEtcdSpec spec)
    : TestEtcd(spec.name, test_etcd_arguments(spec, data_dir)) {}

void TestEtcd::start() { process_->start(); }

void TestEtcd::wait_ready(const store::TlsFiles& tls, int seconds) {
    store::ClientOptions options{{client_url_}, tls, std::chrono::milliseconds(500), std::chrono::milliseconds(1000)};
    store::Member self{0, name_, {}, {client_url_}, false};
    process_->wait_ready([&] { return store::check_member(self, options, std::chrono::milliseconds(1000)).healthy; },
                         std::chrono::seconds(seconds));
}

std::string TestEtcd::log_tail() const {
    std::string out;
    for (const auto& line : process_->last_lines()) out += line + "\n";
    return out;
}

}  // namespace trellis::testing
