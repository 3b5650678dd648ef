#include "core/text.hpp"

#include <array>
#include <cctype>
#include <charconv>

namespace trellis {
namespace {

constexpr std::string_view kBase64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

bool is_space(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

// The 6-bit value of a base64 digit, or -1.
int base64_value(char c) {
    const size_t at = kBase64.find(c);
    return at == std::string_view::npos ? -1 : static_cast<int>(at);
}

}  // namespace

std::string_view trim(std::string_view text) {
    constexpr std::string_view kSpace = " \t\r\n";
    const size_t first = text.find_first_not_of(kSpace);
    if (first == std::string_view::npos) return {};
    return text.substr(first, text.find_last_not_of(kSpace) - first + 1);
}

std::vector<std::string> split_list(std::string_view text) {
    std::vector<std::string> out;
    std::string cur;
    for (char c : text) {
        if (c == ',' || is_space(c)) {
            if (!cur.empty()) out.push_back(std::move(cur));
            cur.clear();
        } else {
            cur += c;
        }
    }
    if (!cur.empty()) out.push_back(std::move(cur));
    return out;
}

std::vector<std::string> split_on(std::string_view text, char sep) {
    std::vector<std::string> out;
    for (size_t start = 0;;) {
        const size_t at = text.find(sep, start);
        out.emplace_back(trim(text.substr(start, at == std::string_view::npos ? at : at - start)));
        if (at == std::string_view::npos) return out;
        start = at + 1;
    }
}

std::string hex(std::string_view bytes, HexCase letters, char sep) {
    const char* digits = letters == HexCase::Upper ? "0123456789ABCDEF" : "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * (sep ? 3 : 2));
    for (size_t i = 0; i < bytes.size(); ++i) {
        const auto b = static_cast<unsigned char>(bytes[i]);
        if (i && sep) out += sep;
        out += digits[b >> 4];
        out += digits[b & 0xf];
    }
    return out;
}

std::string hex_u64(std::uint64_t value) {
    std::array<char, 16> buf{};
    const auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), value, 16);
    return std::string(buf.data(), end);
}

std::optional<std::uint64_t> parse_hex_u64(std::string_view text) {
    std::uint64_t value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, 16);
    if (text.empty() || text.size() > 16 || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
    return value;
}

std::string base64_encode(std::string_view bytes) {
    std::string out;
    out.reserve(4 * ((bytes.size() + 2) / 3));
    for (size_t i = 0; i < bytes.size(); i += 3) {
        const size_t n = std::min<size_t>(3, bytes.size() - i);
        std::uint32_t group = 0;
        for (size_t k = 0; k < 3; ++k) group = (group << 8) | (k < n ? static_cast<unsigned char>(bytes[i + k]) : 0u);
        for (size_t k = 0; k < 4; ++k) out += k <= n ? kBase64[(group >> (18 - 6 * k)) & 0x3f] : '=';
    }
    return out;
}

std::optional<std::string> base64_decode(std::string_view text, bool ignore_space) {
    std::string compact;
    if (ignore_space) {
        for (char c : text)
            if (!is_space(c)) compact += c;
        text = compact;
    }
    if (text.size() % 4 != 0) return std::nullopt;
    const size_t pad = text.size() - (text.find_last_not_of('=') + 1);  // npos + 1 == 0: all '='
    if (pad > 2 || (pad > 0 && pad == text.size())) return std::nullopt;
    std::string out;
    out.reserve(text.size() / 4 * 3);
    for (size_t i = 0; i < text.size(); i += 4) {
        std::uint32_t group = 0;
        const bool last = i + 4 == text.size();
        for (size_t k = 0; k < 4; ++k) {
            const bool padding = last && k >= 4 - pad;
            const int v = padding ? 0 : base64_value(text[i + k]);
            if (v < 0) return std::nullopt;
            group = (group << 6) | static_cast<std::uint32_t>(v);
        }
        const size_t n = last ? 3 - pad : 3;
        for (size_t k = 0; k < n; ++k) out += static_cast<char>((group >> (16 - 8 * k)) & 0xff);
    }
    return out;
}

}  // namespace trellis
