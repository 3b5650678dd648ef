// The backend's log: one line per event on stderr, "<UTC time> <level> <message>",
// filtered by the log-level key. Thread-safe; etcd's own lines pass through with a prefix.
#pragma once

#include <string_view>

namespace trellis::backend {

enum class Level { Debug, Info, Warn, Error };

// "debug", "info", "warn", "error"; Code::ConfigInvalid naming log-level otherwise.
Level parse_level(std::string_view text);
void set_log_level(Level level);
void log(Level level, std::string_view message);
// A line that is not ours (etcd's), written whole and unfiltered.
void log_raw(std::string_view line);

}  // namespace trellis::backend
