// Endpoint URLs as etcd and the backend config write them ("https://127.0.0.11:2379",
// "http://[::1]:2379"): checked once so every later error can name scheme, host and port.
#pragma once

#include <string>
#include <string_view>

namespace trellis::store {

struct Url {
    std::string scheme;  // "http" or "https"
    std::string host;    // without brackets: "127.0.0.11", "::1", "backend-1"
    int port = 0;
    std::string host_port() const;  // "127.0.0.11:2379", "[::1]:2379"
    std::string to_string() const;  // scheme://host_port
};

// Parses an http(s) URL with an explicit or scheme-default port and no path beyond "/";
// anything else is Code::InputInvalidValue naming `where` and the reason.
Url parse_url(std::string_view text, std::string_view where);

}  // namespace trellis::store
