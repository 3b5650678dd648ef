#include "core/host.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>

namespace trellis {
namespace {

bool is_label_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_'; }

std::optional<std::string> label_problem(std::string_view label) {
    if (label.empty()) return "has an empty label";
    if (label.size() > 63) return "has a label longer than 63 characters";
    for (char c : label)
        if (!is_label_char(c)) return std::string("contains '") + c + "', which a host name cannot";
    if (label.front() == '-' || label.back() == '-') return "has a label starting or ending with '-'";
    return std::nullopt;
}

}  // namespace

bool is_ipv4(std::string_view text) {
    in_addr a{};
    return ::inet_pton(AF_INET, std::string(text).c_str(), &a) == 1;
}

bool is_ipv6(std::string_view text) {
    in6_addr a{};
    return ::inet_pton(AF_INET6, std::string(text).c_str(), &a) == 1;
}

std::optional<std::string> canonical_ip(std::string_view text) {
    const std::vector<unsigned char> bytes = ip_bytes(text);
    if (bytes.empty()) return std::nullopt;
    return ip_text(bytes.data(), bytes.size());
}

std::vector<unsigned char> ip_bytes(std::string_view text) {
    unsigned char buf[16];
    const std::string s(text);
    if (::inet_pton(AF_INET, s.c_str(), buf) == 1) return {buf, buf + 4};
    if (::inet_pton(AF_INET6, s.c_str(), buf) == 1) return {buf, buf + 16};
    return {};
}

std::string ip_text(const unsigned char* data, size_t size) {
    char out[INET6_ADDRSTRLEN] = {};
    if (size == 4) return ::inet_ntop(AF_INET, data, out, sizeof out);
    if (size == 16) return ::inet_ntop(AF_INET6, data, out, sizeof out);
    return {};
}

std::optional<std::string> hostname_problem(std::string_view name) {
    if (name.empty()) return "is empty";
    if (name.size() > 253) return "is longer than 253 characters";
    for (size_t start = 0;;) {
        const size_t dot = name.find('.', start);
        const size_t end = dot == std::string_view::npos ? name.size() : dot;
        if (auto why = label_problem(name.substr(start, end - start))) return why;
        if (dot == std::string_view::npos) break;
        start = dot + 1;
    }
    if (std::all_of(name.begin(), name.end(), [](char c) { return c == '.' || std::isdigit((unsigned char)c); }))
        return "looks like an IP address but is not one";
    return std::nullopt;
}

bool is_wildcard(std::string_view host) {
    const auto ip = canonical_ip(host);
    return ip && (*ip == "0.0.0.0" || *ip == "::");
}

bool is_loopback(std::string_view host) {
    const auto ip = canonical_ip(host);
    return ip && (ip->starts_with("127.") || *ip == "::1");
}

std::string host_for_url(std::string_view host) {
    if (is_ipv6(host)) return "[" + std::string(host) + "]";
    return std::string(host);
}

}  // namespace trellis
