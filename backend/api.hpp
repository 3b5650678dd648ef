// The backend's HTTP API (docs/api.md): cluster health for load balancers and
// trellisctl, and member list/add/update/remove through etcd. HTTPS with client
// certificates by default; plain HTTP only when asked for (api-insecure).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/metrics.hpp"
#include "cluster/lint.hpp"
#include "http_server.hpp"
#include "store/etcd_client.hpp"
#include "tls_reload.hpp"

typedef struct ssl_ctx_st SSL_CTX;

namespace trellis::backend {

// This node's supervised etcd as /metrics reports it; the main thread, which owns the process, writes it.
struct EtcdProcessFacts {
    std::atomic<bool> up{false};
    std::atomic<std::uint64_t> restarts{0};  // for a rollout (POST /api/trellis/v1/etcd/restart)
};

class RequestCounter;

struct ApiOptions {
    std::string listen_address = "[::]:8080";  // host:port, IPv6 in brackets
    std::string cert_file;                     // empty: plain HTTP, if allowed below
    std::string key_file;
    bool plain_http = false;       // api-insecure: serving without cert_file was asked for
    std::string trusted_ca_file;   // set: client certificates required and verified against it
    std::string crl_file;          // set: client certificates it revokes are refused
    int tls_min_version = 0x0303;  // TLS 1.2 (api-tls-min-version)
    // TLS 1.2 suites in OpenSSL's spelling, from etcd-cipher-suites: the API and etcd follow one list.
    std::string cipher_list = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256";
    store::ClientOptions store;  // how to reach etcd
    // This node's own certificates inside the renewal window, for /health's "ExpiringCertificates".
    std::function<std::vector<cluster::CertExpiry>()> expiring_certificates;
    // The "Snapshot" field of /health when scheduled snapshots are on (snapshot-interval).
    std::function<nlohmann::ordered_json()> snapshot_health;
    // POST /api/trellis/v1/etcd/restart: restarts this node's etcd and answers when it serves again;
    // unset where the backend runs no etcd of its own (no-embed-etcd).
    std::function<nlohmann::ordered_json()> restart_etcd;
    // GET /metrics: every certificate this node serves or trusts, and its etcd process (nullptr where the
    // backend runs no etcd of its own).
    std::function<std::vector<api::CertificateFact>()> served_certificates;
    const EtcdProcessFacts* etcd_process = nullptr;
    std::chrono::seconds default_health_timeout{3};
    std::chrono::seconds max_health_timeout{30};
    std::chrono::milliseconds readyz_budget{900};  // GET /readyz answers within this (plus sending it)
    HttpLimits limits;                             // connections, sizes, deadlines, workers (http_server.hpp)
    std::string scratch_dir;  // where a snapshot waits to be sent (unlinked, 0600); empty: the temp dir
};

// /health's added "ExpiringCertificates": [{"Key","File","Subject","NotAfter","Expired"}] (empty when none).
nlohmann::ordered_json expiring_json(const std::vector<cluster::CertExpiry>& expiring);

class ApiServer {
  public:
    explicit ApiServer(ApiOptions options);
    ~ApiServer();
    // Binds the listen address (Code::ConnectFailed naming it when it cannot) and serves
    // on a background thread. Without cert_file and plain_http it refuses (Code::ConfigInvalid).
    void start();
    void stop();
    bool tls() const { return !options_.cert_file.empty(); }

    struct Route;

  private:
    void tls_context();
    void routes();
    void member_routes(bool client_certs);
    void admin_routes(bool client_certs);
    HttpResponse handle(HttpRequest& req) const;

    ApiOptions options_;
    std::unique_ptr<TlsReloader> tls_files_;  // declared first: outlives the server's connections
    std::unique_ptr<SSL_CTX, void (*)(SSL_CTX*)> tls_{nullptr, nullptr};
    std::unique_ptr<RequestCounter> requests_;  // every answered request, for /metrics
    std::vector<Route> routes_;
    std::unique_ptr<HttpServer> server_;
};

}  // namespace trellis::backend
