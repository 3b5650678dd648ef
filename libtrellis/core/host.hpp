// The one classifier of the host names and IP literals that appear in specs, configs, URLs and SANs.
// Pure: no resolution ever. Underscores are accepted in host names (one answer for the whole tree):
// etcd's URL parser (Go's net/url), Go's and OpenSSL's certificate checks and cfssl all take "a_b",
// so refusing it here would only refuse what the tools our files go to accept. RFC 1123 does not
// allow it; names that need to be RFC 1123 clean are the user's choice, not ours to enforce.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace trellis {

bool is_ipv4(std::string_view text);
bool is_ipv6(std::string_view text);  // without brackets: "::1"
inline bool is_ip(std::string_view text) { return is_ipv4(text) || is_ipv6(text); }

// The canonical text of an IPv4 or IPv6 literal ("0:0::1" -> "::1"), or nothing if `text` is not one.
std::optional<std::string> canonical_ip(std::string_view text);

// The 4 or 16 bytes of an IP literal (as an iPAddress SAN holds it), or empty when `text` is not one.
std::vector<unsigned char> ip_bytes(std::string_view text);
// The canonical text of 4 or 16 address bytes; empty for any other length.
std::string ip_text(const unsigned char* data, size_t size);

// Why `name` is not a host name, as "it ..." completes a sentence; nothing when it is one. A host
// name is at most 253 characters of dot-separated labels, each 1 to 63 of letters, digits, '-' and
// '_' and not starting or ending with '-'; a name of digits and dots only ("10.0.0.256") is a
// broken IP address, not a host name.
std::optional<std::string> hostname_problem(std::string_view name);
inline bool is_hostname(std::string_view name) { return !hostname_problem(name); }

// An unspecified (wildcard) address: 0.0.0.0 or :: (in any spelling).
bool is_wildcard(std::string_view host);
// 127.0.0.0/8 or ::1.
bool is_loopback(std::string_view host);
// "[::1]" for IPv6, the host itself otherwise: ready to put before ":port".
std::string host_for_url(std::string_view host);

}  // namespace trellis
