// The backend's log: one line per event on stderr, filtered by the log-level key. As text,
// "<UTC time> <level> <message>"; as JSON (log-format: json), one object per line with "time",
// "level", "source" and "msg". Thread-safe. etcd's own lines pass through whole; as JSON, etcd's JSON
// lines stay JSON with "source": "etcd" added.
#pragma once

#include <string_view>

namespace trellis::backend {

enum class Level { Debug, Info, Warn, Error };
enum class LogFormat { Text, Json };

// "debug", "info", "warn", "error"; Code::ConfigInvalid naming log-level otherwise.
Level parse_level(std::string_view text);
void set_log_level(Level level);
// "text" or "json"; Code::ConfigInvalid naming log-format otherwise.
LogFormat parse_log_format(std::string_view text);
void set_log_format(LogFormat format);
void log(Level level, std::string_view message);
// A line that is not ours (etcd's), written whole and unfiltered.
void log_raw(std::string_view line);

}  // namespace trellis::backend
