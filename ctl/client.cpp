#include "client.hpp"

#include <openssl/err.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <optional>

#include <httplib.h>

#include "api/wire.hpp"
#include "core/cli.hpp"
#include "core/files.hpp"
#include "core/text.hpp"
#include "core/url.hpp"
#include "pki/certificate.hpp"
#include "pki/key.hpp"

namespace trellis::ctl {
namespace {

// A GET whose 2xx body goes to `sink` piece by piece; any other body is kept in `other` (an API error).
httplib::Result get_streamed(httplib::Client& client, const std::string& target, const BodySink& sink,
                             std::string& other) {
    int status = 0;
    std::exception_ptr failed;  // the sink's (a full disk): carried out of httplib, which stops reading
    auto result = client.Get(
        target, httplib::Headers{},
        [&](const httplib::Response& r) {
            status = r.status;
            return true;
        },
        [&](const char* data, std::size_t len) {
            if (status < 200 || status >= 300) {
                other.append(data, len);
                return true;
            }
            try {
                sink.write(std::string_view(data, len));
                return true;
            } catch (...) {
                failed = std::current_exception();
                return false;
            }
        });
    if (failed) std::rethrow_exception(failed);
    return result;
}

httplib::Result call(httplib::Client& client, Method method, const std::string& target, const BodySink* sink,
                     std::string& streamed_other) {
    const httplib::Headers headers{{"Accept", "application/json"}};
    switch (method) {
        case Method::Get:
            if (sink) return get_streamed(client, target, *sink, streamed_other);
            return client.Get(target.c_str(), headers);
        case Method::Post:
            return client.Post(target.c_str(), headers, "", "application/json");
        case Method::Put:
            return client.Put(target.c_str(), headers, "", "application/json");
        case Method::Delete:
            return client.Delete(target.c_str(), headers);
    }
    throw Error(Code::Internal, "unknown HTTP method");
}

// The setting to check when a side refused a certificate: ours (cert-file) or the server's (trusted-ca-file).
struct Hint {
    store::TlsFailure failure;
    Key key;
    std::string Settings::*file;
};
constexpr std::array<Hint, 2> kHints{{
    {store::TlsFailure::ServerUntrusted, Key::TrustedCaFile, &Settings::trusted_ca_file},
    {store::TlsFailure::ClientRefused, Key::CertFile, &Settings::cert_file},
}};

Attempt tls_attempt(std::string url, store::TlsDiagnosis diagnosis) {
    std::string reason = diagnosis.explanation;
    // A refused handshake means the request was never sent.
    return Attempt{std::move(url), Failure::Tls, std::move(reason), false, std::move(diagnosis)};
}

// The certificate and key must be readable before we blame the network for anything.
void check_readable(const std::string& path, Key key, const Settings& settings) {
    try {
        (void)read_file(path);
    } catch (const Error& e) {
        const auto& origin = settings.origins.count(key) ? settings.origins.at(key) : std::string("default");
        const std::string hint = origin == "default"
                                     ? " (set it with --" + std::string(key_info(key).name) + ", " +
                                           std::string(key_info(key).env) + " or `trellisctl configure`)"
                                     : "";
        throw Error(e.code(), std::string(key_info(key).name) + " (from " + origin + "): " + e.what() + hint);
    }
}

}  // namespace

Attempt classify_failure(std::string url, bool https, int httplib_error, long verify_result,
                         const std::vector<std::string>& openssl_errors, bool timed_out) {
    const auto error = static_cast<httplib::Error>(httplib_error);
    // An alert is the server's verdict whenever it came; anything else in the table only explains a handshake.
    if (auto known = store::diagnose_reasons(openssl_errors, kCertSettings);
        known && (known->refuser == store::Refuser::Server || error == httplib::Error::SSLConnection))
        return tls_attempt(std::move(url), std::move(*known));
    Attempt a{std::move(url), Failure::Closed, {}, false, std::nullopt};
    switch (error) {
        case httplib::Error::Connection:
        case httplib::Error::ConnectionTimeout:
            a.failure = timed_out || error == httplib::Error::ConnectionTimeout ? Failure::TimedOut : Failure::Refused;
            a.reason =
                a.failure == Failure::TimedOut ? "timed out connecting" : "connection refused or host unreachable";
            return a;
        case httplib::Error::SSLServerVerification:
            return tls_attempt(std::move(a.url), store::diagnose_server_certificate(verify_result));
        case httplib::Error::SSLConnection:
            a.failure = Failure::Tls;
            a.reason =
                "TLS handshake failed" + (openssl_errors.empty() ? std::string() : ": " + join(openssl_errors, "; "));
            return a;
        default:
            break;
    }
    // Read/write errors: the connection was up, so the request may have reached the server.
    a.request_may_have_arrived = true;
    if (timed_out) {
        a.failure = Failure::TimedOut;
        a.reason = "no answer before the timeout";
    } else {
        a.failure = Failure::Closed;
        a.reason = https ? "the connection closed without an answer"
                         : "the connection closed without an answer (if the server uses TLS, use an https:// URL)";
        if (!openssl_errors.empty()) a.reason += " (TLS: " + join(openssl_errors, "; ") + ")";
    }
    return a;
}

std::string describe(const Attempt& attempt, const Settings& settings) {
    std::string line = attempt.url + ": " + attempt.reason;
    if (!attempt.tls) return line;
    // Point at the setting the user would change.
    for (const auto& hint : kHints)
        if (hint.failure == attempt.tls->failure) {
            const auto it = settings.origins.find(hint.key);
            line += " (" + std::string(key_info(hint.key).name) + " " + settings.*hint.file + ", from " +
                    (it == settings.origins.end() ? std::string("default") : it->second) + ")";
        }
    return line;
}

Error unreachable_error(const std::vector<Attempt>& attempts, const Settings& settings) {
    bool tls = false;
    std::vector<std::string> lines;
    for (const auto& a : attempts) {
        lines.push_back(describe(a, settings));
        tls = tls || a.failure == Failure::Tls;
    }
    const std::string prefix = attempts.size() == 1 ? "cannot reach the backend: " : "no backend answered: ";
    return Error(tls ? Code::TlsFailed : Code::ConnectFailed, prefix + join(lines, "; "));
}

// A key that is not the certificate's is a local mistake, not a connection failure: say so before
// OpenSSL refuses the pair and it looks like the backend cannot be reached.
void check_pair(const Settings& settings) {
    const auto cert = pki::Certificate::from_pem(read_file(settings.cert_file), settings.cert_file);
    const auto key = pki::PrivateKey::from_pem(read_file(settings.key_file), settings.key_file);
    if (!cert.matches(key))
        throw Error(Code::KeyMismatch, "key-file " + settings.key_file + " does not belong to cert-file " +
                                           settings.cert_file + ": give the key made together with the certificate");
}

ApiClient::ApiClient(Settings settings, bool insecure_skip_tls_verify, std::function<void(const std::string&)> warn)
    : settings_(std::move(settings)), insecure_(insecure_skip_tls_verify), warn_(std::move(warn)) {}

void ApiClient::check_files() const {
    bool any_https = false;
    for (const auto& url : settings_.urls) any_https = any_https || url.rfind("https://", 0) == 0;
    if (!any_https || checked_) return;
    checked_ = true;
    check_readable(settings_.cert_file, Key::CertFile, settings_);
    check_readable(settings_.key_file, Key::KeyFile, settings_);
    check_pair(settings_);
    if (insecure_)
        warn_(
            "--insecure-skip-tls-verify: the backend's certificate is NOT verified; anyone on the path can "
            "impersonate it");
    else
        check_readable(settings_.trusted_ca_file, Key::TrustedCaFile, settings_);
}

Response ApiClient::send(Method method, const std::string& target, const std::function<bool(const Response&)>& accept,
                         const BodySink* sink) const {
    check_files();
    using Clock = std::chrono::steady_clock;
    const auto timeout = std::chrono::milliseconds(settings_.timeout_ms);
    std::vector<Attempt> attempts;
    std::optional<Response> refused;  // an HTTP answer `accept` turned down, kept in case nobody does better
    for (std::size_t i = 0; i < settings_.urls.size(); ++i) {
        const std::string& url = settings_.urls[i];
        const bool https = url.rfind("https://", 0) == 0;
        const bool last = i + 1 == settings_.urls.size();
        httplib::Client client =
            https ? httplib::Client(url, settings_.cert_file, settings_.key_file) : httplib::Client(url);
        if (https) {
            if (!client.is_valid())
                throw Error(Code::TlsFailed, "cannot use client certificate " + settings_.cert_file + " with key " +
                                                 settings_.key_file + ": " + join(store::take_openssl_reasons(), "; ") +
                                                 " (is the key the certificate's, and both PEM?)");
            client.enable_server_certificate_verification(!insecure_);
            if (!insecure_) client.set_ca_cert_path(settings_.trusted_ca_file.c_str());
        }
        client.set_connection_timeout(timeout);
        client.set_read_timeout(timeout);
        client.set_write_timeout(timeout);
        client.set_keep_alive(false);

        ERR_clear_error();
        const auto started = Clock::now();
        std::string streamed_other;
        if (sink) sink->restart();
        httplib::Result result = call(client, method, target, sink, streamed_other);
        if (result) {
            Response response{result->status, sink ? streamed_other : result->body, url};
            if (!accept || accept(response)) return response;
            if (!last) warn_(url + ": answered " + std::to_string(response.status) + "; trying the next URL");
            refused = std::move(response);
            continue;
        }
        const bool timed_out = Clock::now() - started >= timeout - std::chrono::milliseconds(50);
        const auto error = result.error();
        const auto reasons = store::take_openssl_reasons();
        Attempt attempt = classify_failure(url, https, static_cast<int>(error),
                                           https ? client.get_openssl_verify_result() : 0, reasons, timed_out);
        if (attempt.tls) {  // the server's alert is terse ("bad certificate"): our certificate may say why
            attempt.tls = store::refine_client_refusal(*attempt.tls, settings_.cert_file, settings_.trusted_ca_file);
            attempt.reason = attempt.tls->explanation;
        }
        // A handshake that failed without the server's alert, or a connection that closed after it (where
        // TLS 1.3 puts a refusal of our certificate): look again at what the server says.
        const bool handshake = error == httplib::Error::SSLConnection;
        if (https && (handshake ? !(attempt.tls && attempt.tls->refuser == store::Refuser::Server)
                                : attempt.failure == Failure::Closed)) {
            const store::ProbeOptions probe{settings_.cert_file, settings_.key_file,
                                            std::chrono::milliseconds(std::min<long long>(settings_.timeout_ms, 2000)),
                                            settings_.trusted_ca_file};
            if (auto seen = store::diagnose_tls_failure(
                    parse_url(url, UrlKind::Api, "--url"),
                    handshake ? store::TlsStage::Handshake : store::TlsStage::AfterHandshake, reasons, probe,
                    kCertSettings))
                attempt = tls_attempt(url, std::move(*seen));
        }
        if (method != Method::Get && attempt.request_may_have_arrived)
            throw Error(Code::ConnectFailed, describe(attempt, settings_) +
                                                 "; the change may or may not have been applied: check with "
                                                 "`trellisctl cluster member-list` before retrying");
        if (!last) warn_(describe(attempt, settings_) + "; trying the next URL");
        attempts.push_back(std::move(attempt));
    }
    if (refused) return *refused;
    throw unreachable_error(attempts, settings_);
}

Error api_error(const Response& response) {
    const std::string where = response.url + ": ";
    const std::string status = "HTTP " + std::to_string(response.status);
    if (const auto body = api::decode_error(response.body)) {
        const auto known = std::find_if(all_codes().begin(), all_codes().end(),
                                        [&](const CodeInfo& c) { return static_cast<int>(c.code) == body->code; });
        // The backend's code is ours when it means "the cluster said no"; a code that would turn the exit
        // status into a usage or connection failure (the backend reached, etcd not) stays HttpError.
        Code code = known == all_codes().end() ? Code::HttpError : known->code;
        if (cli::exit_code_for(Error(code, "")) != cli::kExitFailure) code = Code::HttpError;
        // 401: the backend wants a client certificate (every path but /readyz): an authentication failure, exit 3.
        if (response.status == 401) code = Code::TlsFailed;
        // 403: the certificate's role may not do this (the message names both roles): exit 3 as well.
        if (response.status == 403 && body->code == static_cast<int>(Code::Forbidden)) code = Code::Forbidden;
        const std::string name = known == all_codes().end() ? "unknown" : std::string(known->name);
        return Error(
            code, where + body->message + " (" + status + ", error " + std::to_string(body->code) + " " + name + ")");
    }
    std::string message = response.body.substr(0, 200);
    if (message.find('\n') != std::string::npos) message = message.substr(0, message.find('\n'));
    while (!message.empty() && message.back() == '\r') message.pop_back();
    message = message.empty() ? "the backend gave no reason" : excerpt(message);
    // Our API answers every unknown path with its JSON error body: a bare 404 is another server's.
    if (response.status == 404) return api::not_an_api(response.url, "it answered " + status + " \"" + message + "\"");
    return Error(Code::HttpError, where + message + " (" + status + ")");
}

}  // namespace trellis::ctl
