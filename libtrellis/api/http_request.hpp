// One HTTP/1.1 request head as the API server reads it (backend/http_server.hpp), and the target's
// path and query: pure, unit-tested and fuzzed (tests/fuzz/http_head.cpp), because any client on the
// network reaches it before showing a certificate. Only what the API needs: a request line, headers, a
// body announced by Content-Length (Transfer-Encoding is refused), keep-alive.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace trellis::api {

struct RequestLimits {
    std::size_t max_uri_bytes = 4096;        // the request line; longer: 414
    std::size_t max_header_bytes = 8192;     // request line and headers; more: 431
    std::size_t max_body_bytes = 64 * 1024;  // more: 413; GET and HEAD take none
};

struct RequestHead {
    std::string method, target, version;
    std::map<std::string, std::string> headers;  // lower-case names; repeated ones joined with ", "
    std::size_t content_length = 0;
    bool keep_alive = true;
    bool expect_continue = false;  // "Expect: 100-continue" with a body to come
};

// The status and one-line reason a head is refused with.
struct HeadRefusal {
    int status;
    std::string message;
};

// Parses "METHOD target HTTP/1.x\r\nName: value\r\n...\r\n\r\n" (the text up to and including the
// empty line) under `limits`.
std::variant<RequestHead, HeadRefusal> parse_request_head(std::string_view head, const RequestLimits& limits);
// The percent-decoded path and query ('+' is a space; the first of a repeated name) of a request
// target; nullopt when its percent-encoding is broken.
std::optional<std::pair<std::string, std::map<std::string, std::string>>> split_target(std::string_view target);

}  // namespace trellis::api
