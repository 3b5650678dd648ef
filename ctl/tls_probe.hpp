// A second look when a request over TLS failed without a reason: with TLS 1.3 a
// server refuses a client certificate only after the client's handshake has
// finished, so the refusal (an alert) can be lost behind a failed write. This
// handshake-only probe sends no request and collects that alert.
#pragma once

#include <string>
#include <vector>

namespace trellis::ctl {

// Connects to host:port, completes a TLS handshake presenting cert/key (not verifying the server: we only
// want its verdict on us), and waits up to `wait_ms` for an alert. Returns the OpenSSL reason strings
// seen (e.g. "tlsv1 alert unknown ca"); empty when the server accepted us or could not be reached.
std::vector<std::string> probe_tls_refusal(const std::string& host, int port, const std::string& cert_file,
                                           const std::string& key_file, int wait_ms);

}  // namespace trellis::ctl
