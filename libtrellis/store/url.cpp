#include "store/url.hpp"

#include <arpa/inet.h>

#include <array>
#include <charconv>

#include "core/error.hpp"

namespace trellis::store {
namespace {

struct SchemeInfo {
    std::string_view scheme;
    int default_port;
};
constexpr std::array kSchemes{SchemeInfo{"http", 80}, SchemeInfo{"https", 443}};

[[noreturn]] void bad(std::string_view where, std::string_view text, std::string_view why) {
    throw Error(Code::InputInvalidValue,
                located(where, "\"" + std::string(text) + "\" is not a valid URL: " + std::string(why)));
}

}  // namespace

std::string Url::host_port() const {
    const bool v6 = host.find(':') != std::string::npos;
    return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::string Url::to_string() const { return scheme + "://" + host_port(); }

Url parse_url(std::string_view text, std::string_view where) {
    Url url;
    const auto sep = text.find("://");
    if (sep == std::string_view::npos) bad(where, text, "expected scheme://host:port");
    url.scheme = std::string(text.substr(0, sep));
    const SchemeInfo* scheme = nullptr;
    for (const auto& s : kSchemes)
        if (s.scheme == url.scheme) scheme = &s;
    if (scheme == nullptr) bad(where, text, "the scheme must be http or https");
    std::string_view rest = text.substr(sep + 3);
    if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
    if (rest.find_first_of("/?#@") != std::string_view::npos) bad(where, text, "only scheme://host:port is allowed");
    std::string_view port_text;
    if (!rest.empty() && rest.front() == '[') {
        const auto close = rest.find(']');
        if (close == std::string_view::npos) bad(where, text, "unclosed '[' around an IPv6 address");
        url.host = std::string(rest.substr(1, close - 1));
        in6_addr addr{};
        if (::inet_pton(AF_INET6, url.host.c_str(), &addr) != 1) bad(where, text, "invalid IPv6 address in brackets");
        rest.remove_prefix(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':') bad(where, text, "expected ':port' after ']'");
            port_text = rest.substr(1);
        }
    } else {
        const auto colon = rest.rfind(':');
        if (colon != std::string_view::npos && rest.find(':') != colon)
            bad(where, text, "IPv6 addresses must be written in brackets, e.g. https://[::1]:2379");
        url.host = std::string(rest.substr(0, colon));
        if (colon != std::string_view::npos) port_text = rest.substr(colon + 1);
    }
    if (url.host.empty()) bad(where, text, "the host is empty");
    if (port_text.empty()) {
        url.port = scheme->default_port;
    } else {
        int port = 0;
        const auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
        if (ec != std::errc() || ptr != port_text.data() + port_text.size() || port < 1 || port > 65535)
            bad(where, text, "the port must be a number from 1 to 65535");
        url.port = port;
    }
    return url;
}

}  // namespace trellis::store
