// Times as text, in UTC, written one way everywhere: RFC 3339 for people and JSON, a compact stamp
// for file names and tokens (it sorts as text and needs no quoting in a shell).
#pragma once

#include <chrono>
#include <string>

namespace trellis {

using SystemClock = std::chrono::system_clock;

// strftime's `format` over `when` in UTC (at most 63 characters of output).
std::string utc_format(SystemClock::time_point when, const char* format);

// "2026-12-02T10:37:45Z" (Go's time.Time JSON for a UTC time, as cfssl and Sensu write it).
std::string utc_text(SystemClock::time_point when);

// "2026-12-02T10:37:45.123Z": log lines, where events a millisecond apart must keep their order.
std::string utc_text_ms(SystemClock::time_point when);

// "20261202T103745Z": moved-aside data, snapshot files, restored cluster tokens.
std::string utc_stamp(SystemClock::time_point when = SystemClock::now());

}  // namespace trellis
