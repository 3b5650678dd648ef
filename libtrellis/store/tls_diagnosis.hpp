// Why a TLS connection failed, in words a user can act on: which side refused (the
// server refused our certificate, we refused the server's, or the two do not speak
// the same protocol) and why. Shared by the etcd client and trellisctl.
#pragma once

#include <chrono>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/url.hpp"

namespace trellis::store {

// Who ended the handshake.
enum class Refuser {
    Server,   // the server sent an alert: it refused us
    Us,       // we refused the server's certificate
    Neither,  // no TLS conversation took place (plain HTTP, the wrong port, a closed connection)
};

enum class TlsFailure {
    ClientRefused,    // the server refused our client certificate, or its absence
    NoCommonGround,   // the server refused the handshake: no TLS version in common
    ServerUntrusted,  // the server's certificate does not verify against our CA file
    ServerWrongName,  // the server's certificate does not name the host we dialled
    NotTls,           // the other end does not speak TLS
    Closed,           // the connection closed during the handshake, without an alert
};

// One row of the table: an OpenSSL reason string (a substring of what
// ERR_reason_error_string says, e.g. "tlsv13 alert certificate required") and what it means.
struct TlsReason {
    std::string_view openssl_reason;
    TlsFailure failure;
    Refuser refuser;
    std::string_view explanation;
    bool names_cert_settings;  // explanation ends with ": set " + the caller's certificate settings
};

// Every known reason; the more specific alerts come before the generic ones, and the first match wins.
std::span<const TlsReason> tls_reasons();

struct TlsDiagnosis {
    TlsFailure failure;
    Refuser refuser;
    std::string explanation;  // one line, ending with the OpenSSL reason when there is one: "... (TLS: <reason>)"
};

// The first row of the table that any of `openssl_reasons` matches; nullopt when none does.
// `cert_settings` names what the user sets to send a client certificate: "--cert-file and --key-file"
// (trellisctl), "etcd-cert-file and etcd-key-file" (the backend).
std::optional<TlsDiagnosis> diagnose_reasons(const std::vector<std::string>& openssl_reasons,
                                             std::string_view cert_settings);

// We refused the server's certificate: `verify_result` as from SSL_get_verify_result; X509_V_OK
// means the chain verified, so the host name was what failed.
TlsDiagnosis diagnose_server_certificate(long verify_result);

// A failed handshake where the port answers plain HTTP: the one diagnosis that does not rest
// on OpenSSL's reason (which varies with timing: "wrong version number", "packet length too long",
// "unexpected eof while reading", or none at all when the server resets the connection).
TlsDiagnosis plain_http_diagnosis();

// Drains this thread's OpenSSL error queue into reason strings, oldest first. Reasons that are only
// an echo of an earlier failure ("shutdown while in init", from cleaning up after it) are left out.
std::vector<std::string> take_openssl_reasons();

// A TCP connection to url's host and port within `timeout`: a non-blocking, close-on-exec socket,
// or -1 with `why` worded as Go (and so Sensu) words it: "dial tcp 127.0.0.12:2379: connect: connection refused".
int dial_tcp(const Url& url, std::chrono::milliseconds timeout, std::string& why);

struct ProbeOptions {
    std::string cert_file;  // empty: present no client certificate
    std::string key_file;
    std::chrono::milliseconds timeout{1000};  // bounds each probe as a whole
    std::string ca_file;                      // the CA we trust for the server; for refine_client_refusal
};

// Why a server would refuse our client certificate, read from the certificate itself: not valid yet,
// expired, no clientAuth extended key usage, or not signed by the CA in `ca_file` (the server's own CA,
// which in Trellis's layouts also signs its clients; empty: not checked). nullopt when none applies or
// the file does not load. Servers say less: Go's TLS stack (etcd) answers "bad certificate" to all of
// these, OpenSSL to a not-yet-valid one.
std::optional<std::string> client_certificate_problem(const std::string& cert_file, const std::string& ca_file);

// A server's refusal of our certificate, made specific by client_certificate_problem when it finds a cause
// (OpenSSL's alert is kept at the end); other diagnoses unchanged.
TlsDiagnosis refine_client_refusal(TlsDiagnosis diagnosis, const std::string& cert_file, const std::string& ca_file);

// A second handshake that sends no request and waits for the server's verdict on us. With TLS 1.3
// a server refuses a client certificate only after our side of the handshake has finished, so the
// alert is often lost behind a failed write. Returns OpenSSL's reasons (e.g. "tlsv1 alert unknown ca");
// empty when the server accepted us, could not be reached, or our certificate files do not load.
std::vector<std::string> probe_tls_refusal(const Url& url, const ProbeOptions& options);

// The certificate a TLS server presents, read from a handshake with options' client certificate (if
// any) that verifies nothing. The server's certificate arrives before it judges ours, so a server that
// then refuses us (a peer port without a peer certificate) still shows what it serves.
struct ServedCertificate {
    std::string pem;    // the server's leaf, PEM; empty when none arrived
    std::string error;  // why none arrived: "dial tcp ...: connection refused", "TLS: ..."; empty with pem
};
ServedCertificate served_certificate(const Url& url, const ProbeOptions& options);

// Whether the port answers a plain "GET / HTTP/1.0" with an HTTP status line within `timeout`.
bool answers_plain_http(const Url& url, std::chrono::milliseconds timeout);

// Where a TLS exchange failed: in the handshake, or on the first read or write after it.
enum class TlsStage { Handshake, AfterHandshake };

// Explains a failed TLS exchange on `url` as far as it can be known. Alerts in `openssl_reasons`
// are believed; otherwise after the handshake one more handshake reads a late TLS 1.3 alert
// (probe_tls_refusal), and in the handshake a plain-HTTP answer shows the port does not speak TLS.
// Falls back to the table; nullopt when nothing is known (the caller reports the bare failure).
std::optional<TlsDiagnosis> diagnose_tls_failure(const Url& url, TlsStage stage,
                                                 const std::vector<std::string>& openssl_reasons,
                                                 const ProbeOptions& probe, std::string_view cert_settings);

}  // namespace trellis::store
