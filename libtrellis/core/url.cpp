#include "core/url.hpp"

#include <array>
#include <charconv>

#include "core/host.hpp"

namespace trellis {
namespace {

// What each kind accepts, and the example its messages show.
struct UrlRule {
    UrlKind kind;
    bool unix_ok;         // etcd accepts unix(s):// here and Trellis never dials it
    bool ip_only;         // etcd binds it: an IP literal or "localhost"
    bool trailing_slash;  // "https://h:8080/" means "https://h:8080"
    std::string_view example;
    std::string_view unix_refusal;  // why unix(s):// is refused, when it is
};
constexpr std::array<UrlRule, 4> kRules{{
    {UrlKind::Listen, true, true, false, "https://10.0.0.1:2379", ""},
    {UrlKind::Peer, true, false, false, "https://10.0.0.1:2380", ""},
    {UrlKind::Client, false, false, false, "https://10.0.0.1:2379",
     "Trellis dials client URLs over TCP and cannot use a unix socket"},
    {UrlKind::Api, false, false, true, "https://10.0.0.1:8080",
     "the backend API is served over TCP, not on a unix socket"},
}};

const UrlRule& rule_of(UrlKind kind) {
    for (const auto& r : kRules)
        if (r.kind == kind) return r;
    return kRules.front();
}

struct Fail {
    std::string why;
};

std::optional<int> port_number(std::string_view text) {
    int p = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), p);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size() || p < 1 || p > 65535)
        return std::nullopt;
    return p;
}

// Splits "host:port" / "[v6]:port" as Go's net.SplitHostPort does, then checks both halves.
HostPort split_host_port(std::string_view text, std::string_view example) {
    std::string_view host, port;
    bool bracketed = false;
    if (text.starts_with('[')) {
        const size_t close = text.find(']');
        if (close == std::string_view::npos) throw Fail{"unclosed '[' around an IPv6 address"};
        host = text.substr(1, close - 1);
        bracketed = true;
        text.remove_prefix(close + 1);
        if (!text.empty() && !text.starts_with(':')) throw Fail{"expected ':port' after ']'"};
        port = text.empty() ? text : text.substr(1);
    } else {
        const size_t colon = text.rfind(':');
        if (colon != std::string_view::npos && text.find(':') != colon)
            throw Fail{"IPv6 addresses must be written in brackets, e.g. [::1]:2379"};
        host = text.substr(0, colon);
        port = colon == std::string_view::npos ? std::string_view() : text.substr(colon + 1);
    }
    if (host.empty()) throw Fail{"the host is empty"};
    if (bracketed && !is_ipv6(host)) throw Fail{"\"" + std::string(host) + "\" in brackets is not an IPv6 address"};
    if (!bracketed && !is_ipv4(host))
        if (auto why = hostname_problem(host)) throw Fail{"the host \"" + std::string(host) + "\" " + *why};
    if (port.empty()) throw Fail{"the port is missing (write it, e.g. " + std::string(example) + ")"};
    const auto number = port_number(port);
    if (!number) throw Fail{"the port \"" + std::string(port) + "\" is not a number from 1 to 65535"};
    return {std::string(host), *number};
}

std::string_view strip_scheme(std::string_view text, const UrlRule& rule, Url& url) {
    const size_t sep = text.find("://");
    if (sep == std::string_view::npos) throw Fail{"expected scheme://host:port, e.g. " + std::string(rule.example)};
    url.scheme = std::string(text.substr(0, sep));
    if (url.unix_socket() && !rule.unix_ok) throw Fail{std::string(rule.unix_refusal)};
    if (url.scheme != "http" && url.scheme != "https" && !url.unix_socket())
        throw Fail{"the scheme must be " + std::string(rule.unix_ok ? "http, https, unix or unixs" : "http or https") +
                   ", not \"" + url.scheme + "\""};
    return text.substr(sep + 3);
}

Url parse_or_throw(std::string_view text, UrlKind kind) {
    const UrlRule& rule = rule_of(kind);
    Url url;
    std::string_view rest = strip_scheme(text, rule, url);
    if (rule.trailing_slash && rest.ends_with('/')) rest.remove_suffix(1);
    if (const size_t at = rest.find_first_of("/?#@"); at != std::string_view::npos)
        throw Fail{"only scheme://host:port is allowed, not \"" + std::string(rest.substr(at)) + "\""};
    HostPort hp = split_host_port(rest, rule.example);
    if (rule.ip_only && !url.unix_socket() && !is_ip(hp.host) && hp.host != "localhost")
        throw Fail{"etcd listens on an IP address (or localhost), not on the host name \"" + hp.host + "\""};
    url.host = std::move(hp.host);
    url.port = hp.port;
    return url;
}

}  // namespace

std::string Url::host_port() const { return host_for_url(host) + ":" + std::to_string(port); }

std::string Url::text() const { return scheme + "://" + host_port(); }

std::string HostPort::text() const { return host_for_url(host) + ":" + std::to_string(port); }

std::optional<Url> try_parse_url(std::string_view text, UrlKind kind, std::string* why) {
    try {
        return parse_or_throw(text, kind);
    } catch (const Fail& f) {
        if (why) *why = f.why;
        return std::nullopt;
    }
}

Url parse_url(std::string_view text, UrlKind kind, std::string_view where, Code code) {
    std::string why;
    if (auto url = try_parse_url(text, kind, &why)) return *url;
    throw Error(code, located(where, "\"" + std::string(text) + "\" is not a valid URL: " + why));
}

std::optional<HostPort> try_parse_host_port(std::string_view text, std::string* why) {
    try {
        return split_host_port(text, "[::]:8080");
    } catch (const Fail& f) {
        if (why) *why = f.why;
        return std::nullopt;
    }
}

HostPort parse_host_port(std::string_view text, std::string_view where, Code code) {
    std::string why;
    if (auto hp = try_parse_host_port(text, &why)) return *hp;
    throw Error(code, located(where, "\"" + std::string(text) + "\" is not host:port: " + why));
}

}  // namespace trellis
