#include "log.hpp"

#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <string>

#include "core/error.hpp"

namespace trellis::backend {
namespace {

constexpr std::array<std::pair<std::string_view, Level>, 4> kLevels{
    {{"debug", Level::Debug}, {"info", Level::Info}, {"warn", Level::Warn}, {"error", Level::Error}}};

std::atomic<Level> g_level{Level::Info};
std::mutex g_mutex;

std::string_view level_name(Level level) {
    for (const auto& [name, l] : kLevels)
        if (l == level) return name;
    return "?";
}

std::string now_utc() {
    const auto now = std::chrono::system_clock::now();
    const std::time_t t = std::chrono::system_clock::to_time_t(now);
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
    std::tm tm{};
    ::gmtime_r(&t, &tm);
    char buf[96];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                  tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
    return buf;
}

}  // namespace

Level parse_level(std::string_view text) {
    for (const auto& [name, l] : kLevels)
        if (name == text) return l;
    throw Error(Code::ConfigInvalid, "log-level: \"" + std::string(text) + "\" is not one of debug, info, warn, error");
}

void set_log_level(Level level) { g_level = level; }

void log(Level level, std::string_view message) {
    if (level < g_level.load()) return;
    std::string line = now_utc() + " " + std::string(level_name(level)) + " " + std::string(message);
    for (auto& c : line)
        if (c == '\n') c = ' ';  // one event, one line
    line += '\n';
    std::lock_guard lock(g_mutex);
    std::fwrite(line.data(), 1, line.size(), stderr);
    std::fflush(stderr);
}

void log_raw(std::string_view line) {
    std::lock_guard lock(g_mutex);
    std::fwrite(line.data(), 1, line.size(), stderr);
    std::fputc('\n', stderr);
    std::fflush(stderr);
}

}  // namespace trellis::backend
