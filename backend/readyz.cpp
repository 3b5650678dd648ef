#include "readyz.hpp"

#include <openssl/ssl.h>

#include <nlohmann/json.hpp>

#include "store/health.hpp"

namespace trellis::backend {

HttpResponse readyz(const store::ClientOptions& local, std::chrono::milliseconds budget) {
    // Only this node's etcd: a load balancer asks each node about itself.
    const store::Readiness ready = store::check_readiness(local, budget);
    nlohmann::json body{{"Ready", ready.ready}};
    if (!ready.ready) body["Reason"] = ready.reason;
    HttpResponse res;
    res.status = ready.ready ? 200 : 503;
    res.body = body.dump() + "\n";
    return res;
}

void allow_handshake_without_client_cert(SSL_CTX* context) {
    // Without SSL_VERIFY_FAIL_IF_NO_PEER_CERT a certificate is asked for, verified when sent, optional.
    SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nullptr);
}

std::optional<Error> missing_client_cert(const HttpRequest& req) {
    if (req.path == kReadyzPath || req.peer) return std::nullopt;
    return Error(Code::TlsFailed, req.method + " " + req.path +
                                      " needs a client certificate signed by the API's trusted-ca-file (trellisctl: "
                                      "--cert-file and --key-file); only " +
                                      kReadyzPath + " answers without one");
}

}  // namespace trellis::backend
