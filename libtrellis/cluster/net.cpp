#include "cluster/net.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <charconv>

namespace trellis::cluster {

std::string Url::text() const {
    if (port == 0) return scheme + "://" + host;
    return scheme + "://" + host_for_url(host) + ":" + std::to_string(port);
}

std::optional<Url> parse_url(std::string_view text, std::string* why) {
    auto fail = [&](std::string reason) -> std::optional<Url> {
        if (why) *why = std::move(reason);
        return std::nullopt;
    };
    const size_t sep = text.find("://");
    if (sep == std::string_view::npos) return fail("expected scheme://host:port");
    Url url;
    url.scheme = std::string(text.substr(0, sep));
    std::string_view rest = text.substr(sep + 3);
    if (url.scheme == "unix" || url.scheme == "unixs") {
        if (rest.empty()) return fail("missing socket path");
        url.host = std::string(rest);
        return url;
    }
    if (url.scheme != "http" && url.scheme != "https")
        return fail("scheme must be http or https, not \"" + url.scheme + "\"");
    if (const size_t slash = rest.find('/'); slash != std::string_view::npos) {
        if (rest.substr(slash) != "/") return fail("a path is not allowed here");
        rest = rest.substr(0, slash);
    }
    std::string_view host, port;
    if (rest.starts_with('[')) {
        const size_t close = rest.find(']');
        if (close == std::string_view::npos) return fail("unclosed '[' in IPv6 address");
        host = rest.substr(1, close - 1);
        if (!is_ipv6(host)) return fail("\"" + std::string(host) + "\" is not an IPv6 address");
        rest = rest.substr(close + 1);
        if (!rest.starts_with(':')) return fail("missing :port");
        port = rest.substr(1);
    } else {
        const size_t colon = rest.rfind(':');
        if (colon == std::string_view::npos) return fail("missing :port");
        host = rest.substr(0, colon);
        port = rest.substr(colon + 1);
        if (host.find(':') != std::string_view::npos) return fail("IPv6 addresses must be in brackets: [::1]:2379");
        if (!is_ipv4(host) && !is_hostname(host)) return fail("\"" + std::string(host) + "\" is not a valid host");
    }
    int p = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
    if (port.empty() || ec != std::errc() || end != port.data() + port.size() || p < 1 || p > 65535)
        return fail("port \"" + std::string(port) + "\" is not a number from 1 to 65535");
    url.host = std::string(host);
    url.port = p;
    return url;
}

bool is_ipv4(std::string_view text) {
    in_addr a{};
    return ::inet_pton(AF_INET, std::string(text).c_str(), &a) == 1;
}

bool is_ipv6(std::string_view text) {
    in6_addr a{};
    return ::inet_pton(AF_INET6, std::string(text).c_str(), &a) == 1;
}

bool is_hostname(std::string_view text) {
    if (text.empty() || text.size() > 253) return false;
    if (text.back() == '.') text.remove_suffix(1);
    size_t start = 0;
    bool all_numeric = true;
    while (start <= text.size()) {
        size_t dot = text.find('.', start);
        if (dot == std::string_view::npos) dot = text.size();
        const std::string_view label = text.substr(start, dot - start);
        if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
        for (char c : label) {
            const unsigned char u = static_cast<unsigned char>(c);
            if (!std::isalnum(u) && c != '-') return false;
            if (!std::isdigit(u)) all_numeric = false;
        }
        start = dot + 1;
        if (dot == text.size()) break;
    }
    // "10.0.0.256" is a broken IP, not a host name.
    return !all_numeric;
}

bool is_wildcard(std::string_view host) {
    const auto ip = canonical_ip(host);
    return ip && (*ip == "0.0.0.0" || *ip == "::");
}

std::string host_for_url(std::string_view host) {
    if (is_ipv6(host)) return "[" + std::string(host) + "]";
    return std::string(host);
}

}  // namespace trellis::cluster
