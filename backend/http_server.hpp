// The API's HTTP server (docs/backend.md, "API server"): one libevent loop thread owns the listener and
// every connection -- TLS handshakes (bufferevent_openssl, non-blocking), reading requests under a
// deadline and size limits, sending answers -- and a small pool of workers runs the handlers, which may
// block on etcd. Idle, slow and handshaking connections never hold a worker; a full pool answers 503.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "api/http_request.hpp"
#include "pki/certificate.hpp"

typedef struct ssl_ctx_st SSL_CTX;

namespace trellis::backend {

// One request as the handlers see it: read whole, within the limits below.
struct HttpRequest {
    std::string method;                        // "GET"
    std::string path;                          // percent-decoded, without the query
    std::map<std::string, std::string> query;  // decoded ('+' is a space); the first of a repeated name
    std::string body;
    std::string remote;                    // the client's address
    std::optional<pki::Certificate> peer;  // the client certificate the handshake verified, if one was sent
    std::vector<std::string> matches;      // what the route's "{id}" matched

    bool has_param(const std::string& name) const { return query.count(name) != 0; }
    std::string param(const std::string& name) const {
        const auto it = query.find(name);
        return it == query.end() ? std::string() : it->second;
    }
};

// A handler's answer. A body from a file (file_fd >= 0, an unlinked temp file the server closes) is sent
// from the file, never read into memory.
struct HttpResponse {
    int status = 200;
    std::string content_type = "application/json";
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
    int file_fd = -1;
    long long file_size = 0;
};

// {"code":N,"message":"..."} with a newline: the JSON error every refusal of docs/api.md carries.
HttpResponse json_error(int status, int code, const std::string& message);

// The request limits (api::RequestLimits: line 4 KiB -> 414, head 8 KiB -> 431, body 64 KiB -> 413), and
// the connection's.
struct HttpLimits : api::RequestLimits {
    std::size_t max_connections = 1024;              // in total; beyond it a new connection is closed at once
    std::size_t max_per_address = 64;                // from one client address; beyond: closed at once or told 429
    std::chrono::milliseconds deadline{5000};        // handshake plus the whole request, and a keep-alive's idle time
    std::chrono::milliseconds write_timeout{10000};  // a client that reads nothing of its answer is dropped
    std::size_t workers = 4;
    std::size_t queue = 16;  // requests waiting for a worker; beyond: 503
};

class HttpServer {
  public:
    using Handler = std::function<HttpResponse(HttpRequest&)>;
    // Called on the loop thread for every answer sent (the handler's or the server's own refusals).
    using Observer = std::function<void(const std::string& method, const std::string& path, int status)>;

    // `tls` (nullptr: plain HTTP) stays owned by the caller and must outlive the server.
    HttpServer(SSL_CTX* tls, HttpLimits limits, Handler handler, Observer observer);
    ~HttpServer();
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    // Binds host:port now (Code::ConnectFailed naming `where` when it cannot), then serves on a thread.
    void start(const std::string& host, int port, const std::string& where);
    // Stops accepting, drops every connection, and waits for the workers' current handlers.
    void stop();

    struct Impl;

  private:
    std::unique_ptr<Impl> impl_;
};

// Raises this process's soft limit on open files to its hard limit (a server holding 1,000+ connections
// needs it); returns the soft limit now in force.
long long raise_open_file_limit();

}  // namespace trellis::backend
