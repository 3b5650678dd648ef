// Readiness for load balancers (docs/api.md, GET /readyz): whether this node's own etcd can serve,
// answered within a second and without a client certificate, while every other path of the API
// still requires one.
#pragma once

#include <chrono>
#include <optional>

#include "core/error.hpp"
#include "http_server.hpp"
#include "store/etcd_client.hpp"

typedef struct ssl_ctx_st SSL_CTX;

namespace trellis::backend {

inline constexpr const char* kReadyzPath = "/readyz";

// GET /readyz: 200 {"Ready":true} when this node's etcd (`local.endpoints.front()`) is a started voting
// member that knows a leader and serves a linearizable read; 503 {"Ready":false,"Reason":...} otherwise;
// always within `budget`.
HttpResponse readyz(const store::ClientOptions& local, std::chrono::milliseconds budget);

// For an API that requires client certificates: a client without one may finish the handshake (a
// certificate that is presented is still verified during it, so another CA's or a server-only one
// is refused there as before), and then gets 401 on every path except /readyz.
void allow_handshake_without_client_cert(SSL_CTX* context);
// The 401's error for `req` when it came without a client certificate to a path that needs one.
std::optional<Error> missing_client_cert(const HttpRequest& req);

}  // namespace trellis::backend
