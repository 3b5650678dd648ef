#include "api/http_request.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstring>

#include "core/error.hpp"
#include "core/text.hpp"

namespace trellis::api {
namespace {

bool is_token_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::optional<std::string> percent_decode(std::string_view s, bool plus_is_space) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%') {
            if (i + 2 >= s.size()) return std::nullopt;
            unsigned value = 0;
            const auto [p, ec] = std::from_chars(s.data() + i + 1, s.data() + i + 3, value, 16);
            if (ec != std::errc() || p != s.data() + i + 3) return std::nullopt;
            out.push_back(static_cast<char>(value));
            i += 2;
        } else {
            out.push_back(plus_is_space && s[i] == '+' ? ' ' : s[i]);
        }
    }
    return out;
}

HeadRefusal bad(std::string message) { return {400, std::move(message)}; }

// The request line: "METHOD SP target SP HTTP/1.x".
std::optional<HeadRefusal> parse_request_line(std::string_view line, RequestHead& out) {
    const auto sp1 = line.find(' ');
    const auto sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
    if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos)
        return bad("malformed request line: want METHOD TARGET HTTP/1.1");
    out.method = line.substr(0, sp1);
    out.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    out.version = line.substr(sp2 + 1);
    if (out.method.empty() || !std::all_of(out.method.begin(), out.method.end(), is_token_char))
        return bad("malformed request line: bad method");
    if (out.target.empty() || out.target.front() != '/')
        return bad("malformed request line: the target must be a path");
    if (std::any_of(out.target.begin(), out.target.end(), [](char c) { return c <= ' ' || c == '\x7f'; }))
        return bad("malformed request line: control character in the target");
    if (out.version != "HTTP/1.1" && out.version != "HTTP/1.0")
        return bad("unsupported HTTP version " + excerpt(out.version, 16) + ": HTTP/1.1 only");
    out.keep_alive = out.version == "HTTP/1.1";
    return std::nullopt;
}

// One "Name: value" line into out.headers; no folding, no space before the colon (RFC 9112 5.1).
std::optional<HeadRefusal> parse_header_line(std::string_view line, RequestHead& out) {
    const auto colon = line.find(':');
    if (colon == 0 || colon == std::string_view::npos) return bad("malformed header line");
    const std::string_view name = line.substr(0, colon);
    if (!std::all_of(name.begin(), name.end(), is_token_char)) return bad("malformed header name");
    const std::string key = lower(name);
    const std::string_view raw = line.substr(colon + 1);
    if (raw.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos)
        return bad("control character in header " + excerpt(name, 40));
    const std::string value(trim(raw));
    const auto [it, fresh] = out.headers.emplace(key, value);
    if (!fresh && key == "content-length" && it->second != value) return bad("conflicting Content-Length headers");
    if (!fresh && key != "content-length") it->second += ", " + value;
    return std::nullopt;
}

// What the headers say about the body and the connection.
std::optional<HeadRefusal> judge_headers(RequestHead& h, const RequestLimits& limits) {
    if (h.headers.count("transfer-encoding") != 0)
        return HeadRefusal{400, "Transfer-Encoding is not accepted: send the body with a Content-Length"};
    if (const auto it = h.headers.find("content-length"); it != h.headers.end()) {
        const std::string& v = it->second;
        unsigned long long n = 0;
        const auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
        if (ec == std::errc::result_out_of_range) return HeadRefusal{413, "request body too large"};
        if (v.empty() || ec != std::errc() || p != v.data() + v.size()) return bad("malformed Content-Length");
        if (n > 0 && (h.method == "GET" || h.method == "HEAD"))
            return HeadRefusal{413, h.method + " takes no request body (Content-Length " + v + ")"};
        if (n > limits.max_body_bytes)
            return HeadRefusal{
                413, "request body of " + v + " bytes is over the limit of " + std::to_string(limits.max_body_bytes)};
        h.content_length = static_cast<std::size_t>(n);
    }
    if (const auto it = h.headers.find("expect"); it != h.headers.end())
        h.expect_continue = h.content_length > 0 && lower(it->second) == "100-continue";
    if (const auto it = h.headers.find("connection"); it != h.headers.end()) {
        const std::string v = lower(it->second);
        if (v.find("close") != std::string::npos) h.keep_alive = false;
        if (v.find("keep-alive") != std::string::npos && h.version == "HTTP/1.0") h.keep_alive = true;
    }
    return std::nullopt;
}

}  // namespace

std::variant<RequestHead, HeadRefusal> parse_request_head(std::string_view head, const RequestLimits& limits) {
    RequestHead out;
    const auto line_end = head.find("\r\n");
    if (line_end == std::string_view::npos) return bad("malformed request: no line end");
    if (line_end > limits.max_uri_bytes)
        return HeadRefusal{414, "request line of " + std::to_string(line_end) + " bytes is over the limit of " +
                                    std::to_string(limits.max_uri_bytes)};
    if (head.size() > limits.max_header_bytes)
        return HeadRefusal{431, "request headers of " + std::to_string(head.size()) + " bytes are over the limit of " +
                                    std::to_string(limits.max_header_bytes)};
    if (auto refusal = parse_request_line(head.substr(0, line_end), out)) return *refusal;
    std::size_t at = line_end + 2;
    // Bounded: each pass consumes one line of a head of at most max_header_bytes.
    while (at < head.size()) {
        const auto end = head.find("\r\n", at);
        if (end == std::string_view::npos) return bad("malformed request: unterminated header line");
        if (end == at) break;  // the empty line
        if (auto refusal = parse_header_line(head.substr(at, end - at), out)) return *refusal;
        at = end + 2;
    }
    if (auto refusal = judge_headers(out, limits)) return *refusal;
    return out;
}

std::optional<std::pair<std::string, std::map<std::string, std::string>>> split_target(std::string_view target) {
    const auto q = target.find('?');
    auto path = percent_decode(target.substr(0, q), false);
    if (!path) return std::nullopt;
    std::map<std::string, std::string> query;
    if (q != std::string_view::npos) {
        std::string_view rest = target.substr(q + 1);
        while (!rest.empty()) {
            const auto amp = rest.find('&');
            const std::string_view pair = rest.substr(0, amp);
            rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
            if (pair.empty()) continue;
            const auto eq = pair.find('=');
            auto key = percent_decode(pair.substr(0, eq), true);
            auto value = percent_decode(eq == std::string_view::npos ? "" : pair.substr(eq + 1), true);
            if (!key || !value) return std::nullopt;
            query.emplace(std::move(*key), std::move(*value));
        }
    }
    return std::make_pair(std::move(*path), std::move(query));
}

}  // namespace trellis::api
