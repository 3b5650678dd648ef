// The one duration grammar of Trellis: Go's time.ParseDuration ("1h", "1m30s", "500ms", "8760h",
// "1.5h", "-2s", "0"), as etcd, cfssl and sensuctl read durations, for every flag, key and tool.
// Callers decide the range they allow (and the error code); the grammar is decided here once.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace trellis {

// The duration, or nothing and (if `why` is given) the reason. Like Go: a sign is allowed, every
// number needs a unit (ns, us, µs, ms, s, m, h) except a lone "0", and more than about 292 years
// (int64 nanoseconds) is out of range.
std::optional<std::chrono::nanoseconds> parse_go_duration(std::string_view text, std::string* why = nullptr);

// As Go's Duration.String(): "0s", "1.5s", "500ms", "1m30s", "43800h0m0s".
std::string format_go_duration(std::chrono::nanoseconds d);

}  // namespace trellis
