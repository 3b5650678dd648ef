#include "api.hpp"

#include <openssl/ssl.h>

#include <httplib.h>
#include <algorithm>
#include <charconv>
#include <map>
#include <mutex>
#include <tuple>

#include "api/metrics.hpp"
#include "api/wire.hpp"
#include "cluster/roles.hpp"
#include "core/error.hpp"
#include "core/url.hpp"
#include "log.hpp"
#include "pki/certificate.hpp"
#include "readyz.hpp"
#include "snapshot.hpp"
#include "store/health.hpp"

namespace trellis::backend {
namespace {

using api::Json;

void reply(httplib::Response& res, int status, const Json& body) {
    res.status = status;
    res.set_content(body.dump() + "\n", "application/json");
}

void reply_error(httplib::Response& res, const Error& e) {
    reply(res, api::http_status_for(e), api::encode(api::error_body(e)));
}

std::vector<std::string> peer_addrs(const httplib::Request& req) {
    if (!req.has_param("peer-addrs"))
        throw Error(Code::InputInvalidValue,
                    "peer-addrs: missing; give the member's peer URLs, e.g. ?peer-addrs=https://10.0.0.4:2380");
    std::vector<std::string> urls;
    std::string text = req.get_param_value("peer-addrs");
    for (std::size_t start = 0; start <= text.size();) {
        const auto comma = std::min(text.find(',', start), text.size());
        if (comma > start) urls.push_back(text.substr(start, comma - start));
        start = comma + 1;
    }
    if (urls.empty()) throw Error(Code::InputInvalidValue, "peer-addrs: empty; give at least one peer URL");
    for (const auto& u : urls) parse_url(u, UrlKind::Peer, "peer-addrs");
    return urls;
}

// The identity of the client certificate the handshake verified, or nullopt when none was presented.
std::optional<cluster::Caller> caller_of(const httplib::Request& req) {
    if (req.ssl == nullptr) return std::nullopt;
    X509* x = SSL_get1_peer_certificate(req.ssl);
    if (x == nullptr) return std::nullopt;
    const pki::Certificate cert(x);  // owns the reference
    return cluster::Caller{cert.common_name(), cert.serial_decimal(), cert.organizations()};
}

// Where the API verifies client certificates, a request whose certificate's role may not take `action`
// is answered 403 and logged with the certificate's identity. Without client certificates (a layout
// that asks for none) there is no identity to judge: docs/api.md, "Roles".
bool denied(const httplib::Request& req, httplib::Response& res, cluster::Action action, bool enforce) {
    if (!enforce) return false;
    const auto caller = caller_of(req);
    const auto denial = cluster::authorize(caller.value_or(cluster::Caller{"", "(no certificate)", {}}), action,
                                           req.method + " " + req.path);
    if (!denial) return false;
    log(Level::Warn, "denied: " + std::string(denial->what()));
    reply_error(res, *denial);
    return true;
}

// Runs a handler body for callers whose role may take `action`, turning errors into docs/api.md's JSON
// errors.
template <typename F>
httplib::Server::Handler guarded(std::string name, cluster::Action action, bool enforce, F body) {
    return [name = std::move(name), action, enforce, body](const httplib::Request& req, httplib::Response& res) {
        try {
            if (denied(req, res, action, enforce)) return;
            body(req, res);
        } catch (const Error& e) {
            log(Level::Warn, name + ": " + e.what());
            reply_error(res, e);
        } catch (const std::exception& e) {
            const Error internal(Code::Internal, std::string("unexpected internal error: ") + e.what());
            log(Level::Error, name + ": " + internal.what());
            reply_error(res, internal);
        }
    };
}

// What /metrics reports, gathered now: the cluster as /health sees it, this node's etcd, the counters.
api::MetricsFacts gather_metrics(const ApiOptions& o, const RequestCounter& requests);

}  // namespace

// Counts every request the API answered, by method, route and status (all bounded sets: metrics.hpp).
class RequestCounter {
  public:
    void add(std::string_view method, std::string_view path, int code) {
        const std::lock_guard lock(mutex_);
        ++counts_[{api::metrics_method(method), api::metrics_route(path), code}];
    }
    std::vector<api::RequestCount> snapshot() const {
        const std::lock_guard lock(mutex_);
        std::vector<api::RequestCount> out;
        for (const auto& [key, count] : counts_)
            out.push_back({std::get<0>(key), std::get<1>(key), std::get<2>(key), count});
        return out;
    }

  private:
    mutable std::mutex mutex_;
    std::map<std::tuple<std::string, std::string, int>, std::uint64_t> counts_;
};

namespace {

api::MetricsFacts gather_metrics(const ApiOptions& o, const RequestCounter& requests) {
    api::MetricsFacts facts;
    facts.requests = requests.snapshot();  // before this request: it is counted once answered
    facts.health = store::check_cluster_health(o.store, std::chrono::milliseconds(2000));
    if (o.etcd_process != nullptr) {
        facts.etcd_up = o.etcd_process->up.load();
        facts.etcd_restarts = o.etcd_process->restarts.load();
        try {
            store::EtcdClient client(o.store);
            facts.local = client.status_on(client.endpoints().front());
        } catch (const Error&) {
            // Not answering: the etcd families are left out, and trellis_member_healthy says why not.
        }
    }
    if (o.served_certificates) facts.certificates = o.served_certificates();
    return facts;
}

}  // namespace

nlohmann::ordered_json expiring_json(const std::vector<cluster::CertExpiry>& expiring) {
    auto out = nlohmann::ordered_json::array();
    for (const auto& e : expiring)
        out.push_back({{"Key", e.key},
                       {"File", e.file},
                       {"Subject", e.subject},
                       {"NotAfter", utc_text(e.not_after)},
                       {"Expired", e.expired}});
    return out;
}

ApiServer::ApiServer(ApiOptions options)
    : options_(std::move(options)), requests_(std::make_unique<RequestCounter>()) {}

ApiServer::~ApiServer() { stop(); }

void ApiServer::start() {
    const HostPort where = parse_host_port(options_.listen_address, "api-listen-address", Code::ConfigInvalid);
    if (!tls() && !options_.plain_http)
        throw Error(Code::ConfigInvalid, "api-listen-address " + options_.listen_address +
                                             ": no cert-file, and plain HTTP was not asked for (api-insecure)");
    if (tls()) {
        tls_files_ = std::make_unique<TlsReloader>(
            TlsFiles{options_.cert_file, options_.key_file, options_.trusted_ca_file, options_.crl_file});
        auto ssl = std::make_unique<httplib::SSLServer>(
            options_.cert_file.c_str(), options_.key_file.c_str(),
            options_.trusted_ca_file.empty() ? nullptr : options_.trusted_ca_file.c_str());
        if (!ssl->is_valid())
            throw Error(Code::TlsFailed, "cannot load the API's TLS files (cert-file " + options_.cert_file +
                                             ", key-file " + options_.key_file + ", trusted-ca-file " +
                                             options_.trusted_ca_file + ")");
        // AEAD with forward secrecy only, as on etcd's ports (etcd-cipher-suites); TLS 1.3's suites all are.
        if (SSL_CTX_set_min_proto_version(ssl->ssl_context(), options_.tls_min_version) != 1 ||
            SSL_CTX_set_cipher_list(ssl->ssl_context(), options_.cipher_list.c_str()) != 1)
            throw Error(Code::TlsFailed,
                        "cannot apply the API's TLS policy (api-tls-min-version, etcd-cipher-suites: " +
                            options_.cipher_list + ")");
        tls_files_->install(ssl->ssl_context());  // files changed on disk are served from the next handshake
        if (!options_.trusted_ca_file.empty()) require_client_cert_except_readyz(*ssl, ssl->ssl_context());
        server_ = std::move(ssl);
    } else {
        server_ = std::make_unique<httplib::Server>();
    }
    // A handful of workers is plenty for health probes and admin calls, and keeps memory small.
    server_->new_task_queue = [] { return new httplib::ThreadPool(4); };
    server_->set_read_timeout(10, 0);
    server_->set_write_timeout(10, 0);
    // Idle keep-alive connections hold a worker, and stop() waits for them: keep them short.
    server_->set_keep_alive_timeout(1);

    const ApiOptions& o = options_;
    using cluster::Action;
    // Roles are judged where client certificates are verified; each route below names the action it is.
    const bool client_certs = tls() && !o.trusted_ca_file.empty();
    serve_readyz(*server_, o.store, o.readyz_budget);
    server_->Get(
        std::string(api::kHealthPath),
        guarded("GET /health", Action::Read, client_certs, [&o](const httplib::Request& req, httplib::Response& res) {
            auto timeout = o.default_health_timeout;
            if (req.has_param("timeout")) {
                const std::string t = req.get_param_value("timeout");
                long long secs = 0;
                const auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), secs);
                if (ec != std::errc() || ptr != t.data() + t.size() || secs < 1 || secs > o.max_health_timeout.count())
                    throw Error(Code::InputInvalidValue, "timeout: \"" + t + "\" must be whole seconds from 1 to " +
                                                             std::to_string(o.max_health_timeout.count()));
                timeout = std::chrono::seconds(secs);
            }
            // Leave a margin so the answer, not the probe, arrives within the timeout.
            const auto budget =
                std::chrono::duration_cast<std::chrono::milliseconds>(timeout) - std::chrono::milliseconds(100);
            const store::ClusterHealth health = store::check_cluster_health(o.store, budget);
            auto body = api::encode(health);
            // Reported, not judged: an expiring certificate does not make the cluster unhealthy (yet).
            body["ExpiringCertificates"] =
                expiring_json(o.expiring_certificates ? o.expiring_certificates() : std::vector<cluster::CertExpiry>{});
            if (o.snapshot_health) body["Snapshot"] = o.snapshot_health();
            reply(res, health.healthy() ? 200 : 503, body);
        }));
    const std::string members(api::kMembersPath), member = members + "/([^/]+)";
    server_->Get(members, guarded("GET members", Action::Read, client_certs,
                                  [&o](const httplib::Request&, httplib::Response& res) {
                                      store::EtcdClient client(o.store);
                                      const auto list = client.member_list();
                                      reply(res, 200, api::encode(api::members_answer(list)));
                                  }));
    server_->Post(members,
                  guarded("POST members", Action::ChangeMembers, client_certs,
                          [&o](const httplib::Request& req, httplib::Response& res) {
                              const auto urls = peer_addrs(req);
                              // `name` is ours (Sensu's API takes only peer-addrs): for the log. The answer is etcd's,
                              // where a member that has not started has no name, exactly as sensuctl expects it.
                              const std::string name = req.has_param("name") ? req.get_param_value("name") : "";
                              store::EtcdClient client(o.store);
                              // ?learner=true: an etcd learner, promoted by the leader's backend (promoter.hpp).
                              const bool learner = req.has_param("learner") && req.get_param_value("learner") == "true";
                              const auto change = client.member_add(urls, learner);
                              log(Level::Info, "added member " + store::hex_id(change.member ? change.member->id : 0) +
                                                   (name.empty() ? "" : " (" + name + ")") + " with peer URLs " +
                                                   req.get_param_value("peer-addrs"));
                              reply(res, 201, api::encode(change));
                          }));
    server_->Put(member, guarded("PUT member", Action::ChangeMembers, client_certs,
                                 [&o](const httplib::Request& req, httplib::Response& res) {
                                     const auto id = store::parse_hex_id(req.matches[1].str(), "member ID");
                                     const auto urls = peer_addrs(req);
                                     store::EtcdClient client(o.store);
                                     const auto change = client.member_update(id, urls);
                                     log(Level::Info, "updated member " + store::hex_id(id));
                                     reply(res, 200, api::encode(change));
                                 }));
    server_->Delete(member, guarded("DELETE member", Action::ChangeMembers, client_certs,
                                    [&o](const httplib::Request& req, httplib::Response& res) {
                                        const auto id = store::parse_hex_id(req.matches[1].str(), "member ID");
                                        store::EtcdClient client(o.store);
                                        const auto change = client.member_remove(id);
                                        log(Level::Info, "removed member " + store::hex_id(id));
                                        reply(res, 200, api::encode(change));
                                    }));
    server_->Get(std::string(api::kSnapshotPath),
                 guarded("GET snapshot", Action::Snapshot, client_certs,
                         [&o, client_certs](const httplib::Request&, httplib::Response& res) {
                             // A snapshot holds every key: only for clients whose certificate the API verified.
                             if (!client_certs)
                                 return reply(res, 403,
                                              api::encode(api::error_body(Error(Code::TlsFailed,
                                                                                "this API does not require client "
                                                                                "certificates (trusted-ca-file), so it "
                                                                                "serves no snapshots"))));
                             serve_snapshot(o.store, res);
                         }));
    server_->Post(std::string(api::kEtcdRestartPath),
                  guarded("POST etcd restart", Action::RestartEtcd, client_certs,
                          [&o, client_certs](const httplib::Request&, httplib::Response& res) {
                              if (!client_certs || !o.restart_etcd)
                                  throw Error(Code::StoreUnavailable,
                                              !client_certs ? "this API does not require client certificates "
                                                              "(trusted-ca-file), so it restarts nothing"
                                                            : "this node runs no etcd of its own (no-embed-etcd)");
                              reply(res, 200, o.restart_etcd());
                          }));
    server_->Get(std::string(api::kMetricsPath), guarded("GET /metrics", Action::Read, client_certs,
                                                         [&o, this](const httplib::Request&, httplib::Response& res) {
                                                             res.set_content(
                                                                 api::metrics_text(gather_metrics(o, *requests_)),
                                                                 std::string(api::kMetricsContentType));
                                                         }));
    server_->set_logger([this](const httplib::Request& req, const httplib::Response& res) {
        requests_->add(req.method, req.path, res.status);
    });
    server_->set_error_handler([](const httplib::Request& req, httplib::Response& res) {
        if (res.status == 404 && res.body.empty())
            reply(res, 404,
                  api::encode(api::error_body(
                      Error(Code::Usage, "no such endpoint: " + req.method + " " + req.path + " (see docs/api.md)"))));
    });

    if (!server_->bind_to_port(where.host, where.port))
        throw Error(Code::ConnectFailed, "api-listen-address " + options_.listen_address +
                                             ": cannot listen there (in use, or not an address of this host)");
    thread_ = std::thread([this] { server_->listen_after_bind(); });
    // httplib's stop() only wakes a server that is already running: a SIGTERM right after start
    // would otherwise leave the accept loop (and our join) waiting forever. Bounded.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!server_->is_running() && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

void ApiServer::stop() {
    if (server_) server_->stop();
    if (thread_.joinable()) thread_.join();
}

}  // namespace trellis::backend
