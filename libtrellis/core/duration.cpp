#include "core/duration.hpp"

#include <array>
#include <cstdint>

namespace trellis {
namespace {

constexpr uint64_t kMax = uint64_t{1} << 63;  // |int64 min|: Go's bound on a duration's magnitude

struct Unit {
    std::string_view name;
    uint64_t ns;
};
constexpr std::array<Unit, 8> kUnits{{
    {"ns", 1},
    {"us", 1000},
    {"\xc2\xb5s", 1000},  // U+00B5 micro sign
    {"\xce\xbcs", 1000},  // U+03BC Greek mu
    {"ms", 1000000},
    {"s", 1000000000},
    {"m", 60000000000},
    {"h", 3600000000000},
}};

bool is_digit(char c) { return c >= '0' && c <= '9'; }

struct Bad {
    std::string why;
};

// Leading digits as an integer; false on overflow past kMax (Go's leadingInt).
uint64_t leading_int(std::string_view& s, bool& any) {
    uint64_t x = 0;
    while (!s.empty() && is_digit(s.front())) {
        if (x > (kMax - 1) / 10) throw Bad{"it is too long (at most about 292 years)"};
        x = x * 10 + static_cast<uint64_t>(s.front() - '0');
        if (x > kMax) throw Bad{"it is too long (at most about 292 years)"};
        s.remove_prefix(1);
        any = true;
    }
    return x;
}

// Digits after '.': value and its scale; digits past int64 precision are dropped (Go's leadingFraction).
uint64_t leading_fraction(std::string_view& s, double& scale, bool& any) {
    uint64_t x = 0;
    bool overflow = false;
    scale = 1;
    while (!s.empty() && is_digit(s.front())) {
        any = true;
        if (!overflow && x <= (kMax - 1) / 10 && x * 10 + static_cast<uint64_t>(s.front() - '0') <= kMax) {
            x = x * 10 + static_cast<uint64_t>(s.front() - '0');
            scale *= 10;
        } else {
            overflow = true;
        }
        s.remove_prefix(1);
    }
    return x;
}

const Unit& take_unit(std::string_view& s) {
    size_t i = 0;
    while (i < s.size() && s[i] != '.' && !is_digit(s[i])) ++i;
    if (i == 0) throw Bad{"a number has no unit (ns, us, ms, s, m or h)"};
    const std::string_view name = s.substr(0, i);
    s.remove_prefix(i);
    for (const auto& u : kUnits)
        if (u.name == name) return u;
    throw Bad{"unknown unit \"" + std::string(name) + "\" (ns, us, ms, s, m or h)"};
}

// One "<number><unit>" term, in nanoseconds.
uint64_t take_term(std::string_view& s) {
    if (!is_digit(s.front()) && s.front() != '.') throw Bad{"expected a number"};
    bool any = false;
    uint64_t v = leading_int(s, any);
    uint64_t f = 0;
    double scale = 1;
    if (!s.empty() && s.front() == '.') {
        s.remove_prefix(1);
        f = leading_fraction(s, scale, any);
    }
    if (!any) throw Bad{"expected a number"};
    const Unit& unit = take_unit(s);
    if (v > kMax / unit.ns) throw Bad{"it is too long (at most about 292 years)"};
    v *= unit.ns;
    if (f > 0) {
        v += static_cast<uint64_t>(static_cast<double>(f) * (static_cast<double>(unit.ns) / scale));
        if (v > kMax) throw Bad{"it is too long (at most about 292 years)"};
    }
    return v;
}

std::chrono::nanoseconds parse_or_throw(std::string_view s) {
    bool negative = false;
    if (!s.empty() && (s.front() == '-' || s.front() == '+')) {
        negative = s.front() == '-';
        s.remove_prefix(1);
    }
    if (s == "0") return std::chrono::nanoseconds{0};
    if (s.empty()) throw Bad{"it is empty"};
    uint64_t total = 0;
    while (!s.empty()) {
        total += take_term(s);
        if (total > kMax) throw Bad{"it is too long (at most about 292 years)"};
    }
    // Unsigned negation gives int64's two's complement, so -(1<<63) (Go's minimum) is representable.
    if (negative) return std::chrono::nanoseconds{static_cast<int64_t>(uint64_t{0} - total)};
    if (total > kMax - 1) throw Bad{"it is too long (at most about 292 years)"};
    return std::chrono::nanoseconds{static_cast<int64_t>(total)};
}

// "1.5" from 1500 with 3 decimals; trailing zeros dropped as Go does.
std::string fixed(uint64_t v, int decimals) {
    std::string digits = std::to_string(v);
    if (decimals == 0) return digits;
    if (digits.size() <= static_cast<size_t>(decimals)) digits.insert(0, decimals + 1 - digits.size(), '0');
    std::string whole = digits.substr(0, digits.size() - decimals), frac = digits.substr(digits.size() - decimals);
    while (!frac.empty() && frac.back() == '0') frac.pop_back();
    return frac.empty() ? whole : whole + "." + frac;
}

}  // namespace

std::optional<std::chrono::nanoseconds> parse_go_duration(std::string_view text, std::string* why) {
    try {
        return parse_or_throw(text);
    } catch (const Bad& b) {
        if (why) *why = b.why;
        return std::nullopt;
    }
}

std::string format_go_duration(std::chrono::nanoseconds d) {
    const int64_t n = d.count();
    if (n == 0) return "0s";
    const std::string sign = n < 0 ? "-" : "";
    const uint64_t u = n < 0 ? uint64_t{0} - static_cast<uint64_t>(n) : static_cast<uint64_t>(n);
    if (u < 1000) return sign + std::to_string(u) + "ns";
    if (u < 1000000) return sign + fixed(u, 3) + "\xc2\xb5s";
    if (u < 1000000000) return sign + fixed(u, 6) + "ms";
    const uint64_t total_s = u / 1000000000, h = total_s / 3600, m = total_s / 60 % 60;
    const std::string secs = fixed(u % 60000000000, 9) + "s";
    if (h > 0) return sign + std::to_string(h) + "h" + std::to_string(m) + "m" + secs;
    if (m > 0) return sign + std::to_string(m) + "m" + secs;
    return sign + secs;
}

}  // namespace trellis
