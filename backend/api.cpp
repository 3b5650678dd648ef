#include "api.hpp"

#include <openssl/ssl.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <tuple>

#include "api/metrics.hpp"
#include "api/wire.hpp"
#include "cluster/roles.hpp"
#include "core/error.hpp"
#include "core/text.hpp"
#include "core/url.hpp"
#include "log.hpp"
#include "pki/certificate.hpp"
#include "readyz.hpp"
#include "snapshot.hpp"
#include "store/health.hpp"

namespace trellis::backend {
namespace {

using api::Json;
using Body = std::function<void(const HttpRequest&, HttpResponse&)>;

void reply(HttpResponse& res, int status, const Json& body) {
    res.status = status;
    res.content_type = "application/json";
    res.body = body.dump() + "\n";
}

void reply_error(HttpResponse& res, const Error& e) {
    reply(res, api::http_status_for(e), api::encode(api::error_body(e)));
}

std::vector<std::string> peer_addrs(const HttpRequest& req) {
    if (!req.has_param("peer-addrs"))
        throw Error(Code::InputInvalidValue,
                    "peer-addrs: missing; give the member's peer URLs, e.g. ?peer-addrs=https://10.0.0.4:2380");
    const std::vector<std::string> urls = split_list(req.param("peer-addrs"));  // as etcd's flags take a list
    if (urls.empty()) throw Error(Code::InputInvalidValue, "peer-addrs: empty; give at least one peer URL");
    for (const auto& u : urls) parse_url(u, UrlKind::Peer, "peer-addrs");
    return urls;
}

// Who asked for a change, for the log line that records it: " by CN=admin (serial 4660)".
std::string asked_by(const HttpRequest& req) {
    if (!req.peer) return " by a client without a certificate";
    return " by CN=" + excerpt(req.peer->common_name()) + " (serial " + req.peer->serial_decimal() + ")";
}

// Where the API verifies client certificates, a request whose certificate's role may not take `action`
// is answered 403 and logged with the certificate's identity. Without client certificates (a layout
// that asks for none) there is no identity to judge: docs/api.md, "Roles".
bool denied(const HttpRequest& req, HttpResponse& res, cluster::Action action, bool enforce) {
    if (!enforce) return false;
    const cluster::Caller caller =
        req.peer ? cluster::Caller{req.peer->common_name(), req.peer->serial_decimal(), req.peer->organizations()}
                 : cluster::Caller{"", "(no certificate)", {}};
    const auto denial = cluster::authorize(caller, action, req.method + " " + req.path);
    if (!denial) return false;
    log(Level::Warn, "denied: " + std::string(denial->what()));
    reply_error(res, *denial);
    return true;
}

// Runs a handler body for callers whose role may take `action`, turning errors into docs/api.md's JSON
// errors.
Body guarded(std::string name, cluster::Action action, bool enforce, Body body) {
    return
        [name = std::move(name), action, enforce, body = std::move(body)](const HttpRequest& req, HttpResponse& res) {
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

// GET /health: the cluster's health within ?timeout= (default and maximum from the options).
void answer_health(const ApiOptions& o, const HttpRequest& req, HttpResponse& res) {
    auto timeout = o.default_health_timeout;
    if (req.has_param("timeout")) {
        const std::string t = req.param("timeout");
        long long secs = 0;
        const auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), secs);
        if (ec != std::errc() || ptr != t.data() + t.size() || secs < 1 || secs > o.max_health_timeout.count())
            throw Error(Code::InputInvalidValue, "timeout: \"" + t + "\" must be whole seconds from 1 to " +
                                                     std::to_string(o.max_health_timeout.count()));
        timeout = std::chrono::seconds(secs);
    }
    // Leave a margin so the answer, not the probe, arrives within the timeout.
    const auto budget = std::chrono::duration_cast<std::chrono::milliseconds>(timeout) - std::chrono::milliseconds(100);
    const store::ClusterHealth health = store::check_cluster_health(o.store, budget);
    auto body = api::encode(health);
    // Reported, not judged: an expiring certificate does not make the cluster unhealthy (yet).
    body["ExpiringCertificates"] =
        expiring_json(o.expiring_certificates ? o.expiring_certificates() : std::vector<cluster::CertExpiry>{});
    if (o.snapshot_health) body["Snapshot"] = o.snapshot_health();
    reply(res, health.healthy() ? 200 : 503, body);
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

// One endpoint: a method and a path, or a path with one more segment ("/{id}") that the body reads.
struct ApiServer::Route {
    std::string method;
    std::string path;
    bool with_id = false;
    std::function<void(const HttpRequest&, HttpResponse&)> body;
};

ApiServer::ApiServer(ApiOptions options)
    : options_(std::move(options)), requests_(std::make_unique<RequestCounter>()) {}

ApiServer::~ApiServer() { stop(); }

// The API's TLS: the files TlsReloader serves per handshake, the cipher list and minimum version of
// etcd-cipher-suites and api-tls-min-version, and client certificates verified when trusted-ca-file is set.
void ApiServer::tls_context() {
    tls_files_ = std::make_unique<TlsReloader>(
        TlsFiles{options_.cert_file, options_.key_file, options_.trusted_ca_file, options_.crl_file});
    tls_ = {SSL_CTX_new(TLS_server_method()), SSL_CTX_free};
    SSL_CTX* ctx = tls_.get();
    const bool verify_clients = !options_.trusted_ca_file.empty();
    if (ctx == nullptr || SSL_CTX_use_certificate_chain_file(ctx, options_.cert_file.c_str()) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, options_.key_file.c_str(), SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1 ||
        (verify_clients && SSL_CTX_load_verify_locations(ctx, options_.trusted_ca_file.c_str(), nullptr) != 1))
        throw Error(Code::TlsFailed, "cannot load the API's TLS files (cert-file " + options_.cert_file +
                                         ", key-file " + options_.key_file + ", trusted-ca-file " +
                                         options_.trusted_ca_file + ")");
    // No renegotiation (a client could make the loop redo handshakes at will); buffers freed while a
    // connection is idle (a thousand idle connections would otherwise hold 34 KiB each).
    SSL_CTX_set_options(
        ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_SESSION_RESUMPTION_ON_RENEGOTIATION | SSL_OP_NO_RENEGOTIATION);
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    // AEAD with forward secrecy only, as on etcd's ports (etcd-cipher-suites); TLS 1.3's suites all are.
    if (SSL_CTX_set_min_proto_version(ctx, options_.tls_min_version) != 1 ||
        SSL_CTX_set_cipher_list(ctx, options_.cipher_list.c_str()) != 1)
        throw Error(Code::TlsFailed, "cannot apply the API's TLS policy (api-tls-min-version, etcd-cipher-suites: " +
                                         options_.cipher_list + ")");
    tls_files_->install(ctx);  // files changed on disk are served from the next handshake
    if (verify_clients) {
        SSL_CTX_set_client_CA_list(ctx, SSL_load_client_CA_file(options_.trusted_ca_file.c_str()));
        allow_handshake_without_client_cert(ctx);
    } else {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
    }
}

void ApiServer::start() {
    const HostPort where = parse_host_port(options_.listen_address, "api-listen-address", Code::ConfigInvalid);
    if (!tls() && !options_.plain_http)
        throw Error(Code::ConfigInvalid, "api-listen-address " + options_.listen_address +
                                             ": no cert-file, and plain HTTP was not asked for (api-insecure)");
    if (tls()) tls_context();
    routes();
    server_ = std::make_unique<HttpServer>(
        tls_.get(), options_.limits, [this](HttpRequest& req) { return handle(req); },
        [this](const std::string& method, const std::string& path, int status) {
            requests_->add(method, path, status);
        });
    server_->start(where.host, where.port, "api-listen-address " + options_.listen_address);
}

void ApiServer::stop() {
    if (server_) server_->stop();
}

// Finds the route; on the server's workers.
HttpResponse ApiServer::handle(HttpRequest& req) const {
    HttpResponse res;
    const bool client_certs = tls() && !options_.trusted_ca_file.empty();
    if (client_certs)
        if (const auto refused = missing_client_cert(req)) {
            reply(res, 401, api::encode(api::error_body(*refused)));
            return res;
        }
    for (const auto& route : routes_) {
        if (route.method != req.method) continue;
        if (!route.with_id && route.path == req.path) {
            route.body(req, res);
            return res;
        }
        const std::string prefix = route.path + "/";
        if (route.with_id && req.path.size() > prefix.size() && req.path.starts_with(prefix) &&
            req.path.find('/', prefix.size()) == std::string::npos) {
            req.matches = {req.path.substr(prefix.size())};
            route.body(req, res);
            return res;
        }
    }
    reply(res, 404,
          api::encode(api::error_body(
              Error(Code::Usage, "no such endpoint: " + req.method + " " + req.path + " (see docs/api.md)"))));
    return res;
}

void ApiServer::routes() {
    const ApiOptions& o = options_;
    using cluster::Action;
    // Roles are judged where client certificates are verified; each route below names the action it is.
    const bool client_certs = tls() && !o.trusted_ca_file.empty();
    routes_.clear();
    routes_.push_back({"GET", kReadyzPath, false,
                       [&o](const HttpRequest&, HttpResponse& res) { res = readyz(o.store, o.readyz_budget); }});
    routes_.push_back({"GET", std::string(api::kHealthPath), false,
                       guarded("GET /health", Action::Read, client_certs,
                               [&o](const HttpRequest& req, HttpResponse& res) { answer_health(o, req, res); })});
    member_routes(client_certs);
    admin_routes(client_certs);
}

void ApiServer::member_routes(bool client_certs) {
    const ApiOptions& o = options_;
    using cluster::Action;
    const std::string members(api::kMembersPath);
    routes_.push_back({"GET", members, false,
                       guarded("GET members", Action::Read, client_certs, [&o](const HttpRequest&, HttpResponse& res) {
                           store::EtcdClient client(o.store);
                           const auto list = client.member_list();
                           reply(res, 200, api::encode(api::members_answer(list)));
                       })});
    routes_.push_back(
        {"POST", members, false,
         guarded("POST members", Action::ChangeMembers, client_certs, [&o](const HttpRequest& req, HttpResponse& res) {
             const auto urls = peer_addrs(req);
             // `name` is ours (Sensu's API takes only peer-addrs): for the log. The answer is
             // etcd's, where a member that has not started has no name, as sensuctl expects.
             const std::string name = req.param("name");
             store::EtcdClient client(o.store);
             // ?learner=true: an etcd learner, promoted by the leader's backend (promoter.hpp).
             const bool learner = req.param("learner") == "true";
             const auto change = client.member_add(urls, learner);
             log(Level::Info, "added member " + store::hex_id(change.member ? change.member->id : 0) +
                                  (name.empty() ? "" : " (" + name + ")") + " with peer URLs " +
                                  req.param("peer-addrs") + (learner ? " as a learner" : "") + asked_by(req));
             reply(res, 201, api::encode(change));
         })});
    routes_.push_back(
        {"PUT", members, true,
         guarded("PUT member", Action::ChangeMembers, client_certs, [&o](const HttpRequest& req, HttpResponse& res) {
             const auto id = store::parse_hex_id(req.matches.at(0), "member ID");
             const auto urls = peer_addrs(req);
             store::EtcdClient client(o.store);
             const auto change = client.member_update(id, urls);
             log(Level::Info,
                 "updated member " + store::hex_id(id) + " to peer URLs " + req.param("peer-addrs") + asked_by(req));
             reply(res, 200, api::encode(change));
         })});
    routes_.push_back(
        {"DELETE", members, true,
         guarded("DELETE member", Action::ChangeMembers, client_certs, [&o](const HttpRequest& req, HttpResponse& res) {
             const auto id = store::parse_hex_id(req.matches.at(0), "member ID");
             store::EtcdClient client(o.store);
             const auto change = client.member_remove(id);
             log(Level::Info, "removed member " + store::hex_id(id) + asked_by(req));
             reply(res, 200, api::encode(change));
         })});
}

void ApiServer::admin_routes(bool client_certs) {
    const ApiOptions& o = options_;
    using cluster::Action;
    routes_.push_back(
        {"GET", std::string(api::kSnapshotPath), false,
         guarded(
             "GET snapshot", Action::Snapshot, client_certs, [&o, client_certs](const HttpRequest&, HttpResponse& res) {
                 // A snapshot holds every key: only for clients whose certificate the API verified.
                 if (!client_certs)
                     return reply(res, 403,
                                  api::encode(api::error_body(Error(Code::TlsFailed,
                                                                    "this API does not require client certificates "
                                                                    "(trusted-ca-file), so it serves no snapshots"))));
                 // The state dir (on disk) where it exists; else the temp dir.
                 std::error_code ec;
                 const bool own = !o.scratch_dir.empty() && std::filesystem::is_directory(o.scratch_dir, ec);
                 res = serve_snapshot(
                     o.store, own ? std::filesystem::path(o.scratch_dir) : std::filesystem::temp_directory_path());
             })});
    routes_.push_back({"POST", std::string(api::kEtcdRestartPath), false,
                       guarded("POST etcd restart", Action::RestartEtcd, client_certs,
                               [&o, client_certs](const HttpRequest& req, HttpResponse& res) {
                                   if (!client_certs || !o.restart_etcd)
                                       throw Error(Code::StoreUnavailable,
                                                   !client_certs ? "this API does not require client certificates "
                                                                   "(trusted-ca-file), so it restarts nothing"
                                                                 : "this node runs no etcd of its own (no-embed-etcd)");
                                   log(Level::Info, "restarting etcd for a rollout, asked" + asked_by(req));
                                   reply(res, 200, o.restart_etcd());
                               })});
    routes_.push_back(
        {"GET", std::string(api::kMetricsPath), false,
         guarded("GET /metrics", Action::Read, client_certs, [&o, this](const HttpRequest&, HttpResponse& res) {
             res.content_type = std::string(api::kMetricsContentType);
             res.body = api::metrics_text(gather_metrics(o, *requests_));
         })});
}

}  // namespace trellis::backend
