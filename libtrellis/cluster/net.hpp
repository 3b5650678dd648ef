// Small, pure checks of the network names that appear in specs and configs:
// URLs as etcd takes them, IP literals, DNS host names. No resolution ever.
#pragma once

#include "pki/request.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace trellis::cluster {

struct Url {
    std::string scheme;        // "http", "https", "unix", "unixs"
    std::string host;          // without brackets: "127.0.0.1", "::1", "backend-1"
    int port = 0;              // 0 when absent (only for unix sockets)
    std::string text() const;  // back to "scheme://host:port", brackets for IPv6
};

// etcd's URL forms: http(s)://host:port (a port is required) or unix(s)://path.
// On failure returns nullopt and, if `why` is set, the reason.
std::optional<Url> parse_url(std::string_view text, std::string* why = nullptr);

bool is_ipv4(std::string_view text);
bool is_ipv6(std::string_view text);
inline bool is_ip(std::string_view text) { return is_ipv4(text) || is_ipv6(text); }
// Canonical text of an IP literal ("::1", "127.0.0.1"); one definition, in pki, which classifies hosts.
using pki::canonical_ip;
// RFC 1123 host name: labels of [a-z0-9-], not starting/ending with '-', at most 253 characters.
bool is_hostname(std::string_view text);
// An unspecified (wildcard) address: 0.0.0.0 or ::.
bool is_wildcard(std::string_view host);
// "[::1]" for IPv6, the host itself otherwise: ready to put before ":port".
std::string host_for_url(std::string_view host);

}  // namespace trellis::cluster
