// The small text encodings of Trellis, each once: lists (split and join), hex and base64. Pure
// functions over bytes and strings; callers turn a refusal into their own error code and message.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace trellis {

// `text` without leading and trailing white space (spaces, tabs, CR, LF).
std::string_view trim(std::string_view text);

// A list as flags, env vars and backend.yml write one: items separated by commas and/or white space
// ("a,b c, d"); empty items are dropped.
std::vector<std::string> split_list(std::string_view text);
// Items separated by exactly `sep`, each trimmed of white space; empty items are kept, so a
// caller can say which one is empty ("a,,b" is three items).
std::vector<std::string> split_on(std::string_view text, char sep);

// `items` joined with `sep`: join({"a", "b"}, ",") == "a,b". Any range of things a string can be
// built from (vector or set of strings, string_views).
template <class Range>
std::string join(const Range& items, std::string_view sep) {
    std::string out;
    bool first = true;
    for (const auto& item : items) {
        if (!first) out += sep;
        first = false;
        out += item;
    }
    return out;
}

enum class HexCase { Lower, Upper };
// Two hex digits per byte, `sep` between bytes when given: hex(sha) == "9f86d0...",
// hex(id, Upper, ':') == "AB:CD:..." (cfssl's key identifiers).
std::string hex(std::string_view bytes, HexCase letters = HexCase::Lower, char sep = '\0');
inline std::string hex(const unsigned char* data, size_t size, HexCase letters = HexCase::Lower, char sep = '\0') {
    return hex(std::string_view(reinterpret_cast<const char*>(data), size), letters, sep);
}
// A 64-bit number as Go's %x prints it (lower case, no leading zeros): etcd's member IDs.
std::string hex_u64(std::uint64_t value);
// 1 to 16 hex digits (either case) as a 64-bit number; nothing for anything else.
std::optional<std::uint64_t> parse_hex_u64(std::string_view text);

// Standard base64 (RFC 4648, '+' '/', padded), on one line.
std::string base64_encode(std::string_view bytes);
// The bytes of standard padded base64, or nothing when `text` is not exactly that. With
// `ignore_space`, white space anywhere (line-wrapped PEM-style text) is skipped first.
std::optional<std::string> base64_decode(std::string_view text, bool ignore_space = false);

}  // namespace trellis
