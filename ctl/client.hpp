// The HTTPS client of the backend API (docs/api.md): mutual TLS with the
// configured CA, certificate and key, one URL after another when a backend is
// down, and failures explained (which side refused TLS, and why) as
// Code::ConnectFailed / Code::TlsFailed (exit 3) or HTTP errors (exit 1).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "settings.hpp"
#include "store/tls_diagnosis.hpp"

namespace trellis::ctl {

enum class Method { Get, Post, Put, Delete };

struct Response {
    int status = 0;
    std::string body;
    std::string url;  // the backend that answered
};

// What went wrong on the way to one backend, before any HTTP answer.
enum class Failure {
    Refused,   // could not open a TCP connection
    TimedOut,  // connected or connecting, but no answer in time
    Closed,    // the connection closed without an answer
    Tls,       // the TLS handshake failed or was refused: `tls` says which side refused and why, when known
};

struct Attempt {
    std::string url;
    Failure failure;
    std::string reason;                     // one line, from OpenSSL or the socket layer
    bool request_may_have_arrived = false;  // a mutation may have been applied
    std::optional<store::TlsDiagnosis> tls;
};

// What trellisctl users set to present a client certificate, named when a server asks for one.
inline constexpr std::string_view kCertSettings = "--cert-file and --key-file";

// Turns what httplib and OpenSSL report about a failed request into an Attempt. Pure, for tests:
// `openssl_errors` are the reason strings of the thread's OpenSSL error queue, oldest first.
Attempt classify_failure(std::string url, bool https, int httplib_error, long verify_result,
                         const std::vector<std::string>& openssl_errors, bool timed_out);

// One line for a failed attempt, naming the side that refused and what to check.
std::string describe(const Attempt& attempt, const Settings& settings);

// The error raised when no backend answered: TlsFailed if any refusal was TLS, else ConnectFailed.
Error unreachable_error(const std::vector<Attempt>& attempts, const Settings& settings);

// Where a streamed answer's body goes instead of Response::body (a snapshot): `restart` before each
// attempt (a retry on the next URL starts over), `write` for each piece of a 2xx answer.
struct BodySink {
    std::function<void()> restart;
    std::function<void(std::string_view)> write;
};

class ApiClient {
  public:
    // `warn` receives one-line warnings (skipped backends, disabled verification).
    ApiClient(Settings settings, bool insecure_skip_tls_verify, std::function<void(const std::string&)> warn);

    // Sends to the configured URLs in order until one gives an HTTP answer that `accept` takes (default: any).
    // GET is retried on the next URL after any transport failure; mutations only when the request cannot
    // have reached the server (connect or handshake failure), so a member is never added twice.
    // With `sink`, a 2xx answer's body goes there as it arrives (Response::body stays empty).
    Response send(Method method, const std::string& target, const std::function<bool(const Response&)>& accept = {},
                  const BodySink* sink = nullptr) const;

    const Settings& settings() const { return settings_; }

  private:
    // The certificate, key and CA must be readable before we blame the network for anything.
    void check_files() const;

    Settings settings_;
    mutable bool checked_ = false;
    bool insecure_;
    std::function<void(const std::string&)> warn_;
};

// An HTTP error answer as an Error that shows the backend's code and message ("URL: MESSAGE (HTTP 404,
// error 15004 MemberNotFound)"). Its code is the backend's where that keeps exit 1 ("the cluster said no"),
// else HttpError; a body that is not the API's error body gives its first line and HttpError, and
// a bare 404 says this is not a Trellis API.
Error api_error(const Response& response);

}  // namespace trellis::ctl
