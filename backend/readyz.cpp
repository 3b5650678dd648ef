#include "readyz.hpp"

#include <openssl/ssl.h>

#include <httplib.h>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "store/health.hpp"

namespace trellis::backend {

void serve_readyz(httplib::Server& server, const store::ClientOptions& local, std::chrono::milliseconds budget) {
    server.Get(kReadyzPath, [local, budget](const httplib::Request&, httplib::Response& res) {
        // Only this node's etcd: a load balancer asks each node about itself.
        const store::Readiness ready = store::check_readiness(local, budget);
        nlohmann::json body{{"Ready", ready.ready}};
        if (!ready.ready) body["Reason"] = ready.reason;
        res.status = ready.ready ? 200 : 503;
        res.set_content(body.dump() + "\n", "application/json");
    });
}

void require_client_cert_except_readyz(httplib::Server& server, SSL_CTX* context) {
    // Without SSL_VERIFY_FAIL_IF_NO_PEER_CERT a certificate is asked for, verified when sent, optional.
    SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nullptr);
    server.set_pre_routing_handler([](const httplib::Request& req, httplib::Response& res) {
        if (req.path == kReadyzPath || (req.ssl != nullptr && SSL_get0_peer_certificate(req.ssl) != nullptr))
            return httplib::Server::HandlerResponse::Unhandled;
        const Error refused(Code::TlsFailed,
                            req.method + " " + req.path +
                                " needs a client certificate signed by the API's trusted-ca-file (trellisctl: "
                                "--cert-file and --key-file); only " +
                                kReadyzPath + " answers without one");
        res.status = 401;
        res.set_content(refused.to_json() + "\n", "application/json");
        return httplib::Server::HandlerResponse::Handled;
    });
}

}  // namespace trellis::backend
