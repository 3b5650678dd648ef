#include "validate.hpp"

#include <cctype>
#include <charconv>
#include <chrono>

#include "core/duration.hpp"
#include "core/error.hpp"
#include "core/text.hpp"
#include "core/url.hpp"

namespace trellis::ctl {
namespace {

[[noreturn]] void usage(std::string_view where, std::string_view what) {
    throw Error(Code::Usage, located(where, what));
}

}  // namespace

std::uint64_t parse_member_id(std::string_view text, std::string_view where) {
    const std::string shown = "\"" + std::string(text) + "\"";
    if (text.empty()) usage(where, "a member ID is required (1 to 16 hex digits, as member-list shows it)");
    if (text.size() > 16)
        usage(where,
              shown + " is not a member ID: more than 16 hex digits (IDs are 64-bit, as member-list shows them)");
    const auto id = parse_hex_u64(text);
    if (!id) usage(where, shown + " is not a member ID: expected hex digits 0-9a-f, as member-list shows it");
    if (*id == 0) usage(where, shown + " is not a member ID: etcd never assigns ID 0");
    return *id;
}

std::vector<std::string> parse_peer_urls(std::string_view text, std::string_view where) {
    std::vector<std::string> urls;
    for (const std::string& item : split_list(text)) {
        // etcd's rules for a peer URL (core/url.hpp), checked here rather than after a round trip.
        urls.push_back(parse_url(item, UrlKind::Peer, where, Code::Usage).text());
    }
    if (urls.empty()) usage(where, "at least one peer URL is required, e.g. https://10.0.0.4:2380");
    return urls;
}

std::vector<std::string> parse_api_urls(const std::vector<std::string>& values, std::string_view where) {
    std::vector<std::string> urls;
    for (const auto& value : values)
        for (const std::string& item : split_list(value))
            urls.push_back(parse_url(item, UrlKind::Api, where, Code::Usage).text());
    if (urls.empty()) usage(where, "at least one backend URL is required, e.g. https://127.0.0.1:8080");
    return urls;
}

void check_member_name(std::string_view name, std::string_view where) {
    if (name.empty()) usage(where, "the member name is empty");
    // '=' and ',' would corrupt ETCD_INITIAL_CLUSTER ("name=url,..."); spaces and quotes would break the env lines.
    for (const char c : name)
        if (c == '=' || c == ',' || c == '"' || c == '\'' || c == '\\' || std::isspace(static_cast<unsigned char>(c)) ||
            std::iscntrl(static_cast<unsigned char>(c)))
            usage(where,
                  "\"" + std::string(name) + "\" is not a valid member name: it must not contain '" +
                      (std::isspace(static_cast<unsigned char>(c)) ? std::string("whitespace") : std::string(1, c)) +
                      "'");
}

long long parse_timeout_ms(std::string_view text, std::string_view where) {
    const std::string shown = "\"" + std::string(text) + "\"";
    // A bare number is seconds ("10", "1.5"), as trellisctl has always taken it; the rest is Go's grammar.
    const bool bare = !text.empty() && text.find_first_not_of("0123456789.") == std::string_view::npos;
    std::string why;
    const auto d = parse_go_duration(bare ? std::string(text) + "s" : std::string(text), &why);
    if (!d) usage(where, shown + " is not a timeout: " + why + " (write it like 10s, 1m30s, 500ms or 1h)");
    if (*d < std::chrono::milliseconds(1) || *d > std::chrono::hours(1))
        usage(where, shown + " is out of range: give a timeout from 1ms to 1h, e.g. 10s");
    return std::chrono::duration_cast<std::chrono::milliseconds>(*d).count();
}

}  // namespace trellis::ctl
