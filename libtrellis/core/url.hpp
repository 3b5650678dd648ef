// The one URL type of Trellis, with etcd 3.4's rules (pkg/types.NewURLs, embed's checkBindURLs and
// checkHostURLs) as named kinds, so a URL is refused when it is loaded, with the reason, and never
// later when it is used. Every http(s) URL needs an explicit port: etcd requires one, and a default
// of 80/443 only hides a forgotten ":2379". No path: etcd refuses one.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace trellis {

enum class UrlKind {
    Listen,  // etcd --listen-client-urls/--listen-peer-urls: an IP or localhost; unix(s):// as etcd allows
    Peer,    // --initial-advertise-peer-urls, --initial-cluster, member peer URLs: any host; unix(s):// too
    Client,  // client URLs Trellis itself dials (advertised client URLs, external etcd): http(s) only
    Api,     // the backend API (api-url, trellisctl --url): http(s) only; a trailing "/" is tolerated
};

struct Url {
    std::string scheme;  // "http", "https", "unix", "unixs"
    std::string host;    // without brackets: "127.0.0.1", "::1", "backend-1"
    int port = 0;
    bool tls() const { return scheme == "https" || scheme == "unixs"; }
    bool unix_socket() const { return scheme == "unix" || scheme == "unixs"; }
    std::string host_port() const;  // "127.0.0.11:2379", "[::1]:2379"
    std::string text() const;       // "scheme://host:port"
};

// The URL, or nothing and (if `why` is given) the reason, which names an example of the kind.
std::optional<Url> try_parse_url(std::string_view text, UrlKind kind, std::string* why = nullptr);
// The URL, or an Error with `code` naming `where`, the text and the reason.
Url parse_url(std::string_view text, UrlKind kind, std::string_view where, Code code = Code::InputInvalidValue);

// "host:port" as a listen address is written ("[::]:8080", "127.0.0.1:8080"): the port is required.
struct HostPort {
    std::string host;  // without brackets
    int port = 0;
    std::string text() const;
};
std::optional<HostPort> try_parse_host_port(std::string_view text, std::string* why = nullptr);
HostPort parse_host_port(std::string_view text, std::string_view where, Code code = Code::InputInvalidValue);

}  // namespace trellis
