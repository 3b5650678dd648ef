#include "core/time.hpp"

#include <cstdio>
#include <ctime>

namespace trellis {

std::string utc_format(SystemClock::time_point when, const char* format) {
    const std::time_t t = SystemClock::to_time_t(when);
    std::tm tm{};
    ::gmtime_r(&t, &tm);
    char buf[64];
    const std::size_t n = std::strftime(buf, sizeof buf, format, &tm);
    return std::string(buf, n);
}

std::string utc_text(SystemClock::time_point when) { return utc_format(when, "%Y-%m-%dT%H:%M:%SZ"); }

std::string utc_text_ms(SystemClock::time_point when) {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(when.time_since_epoch()).count() % 1000;
    char frac[8];
    std::snprintf(frac, sizeof frac, ".%03dZ", static_cast<int>(ms));
    return utc_format(when, "%Y-%m-%dT%H:%M:%S") + frac;
}

std::string utc_stamp(SystemClock::time_point when) { return utc_format(when, "%Y%m%dT%H%M%SZ"); }

}  // namespace trellis
