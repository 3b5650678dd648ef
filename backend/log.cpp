#include "log.hpp"

#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/time.hpp"

namespace trellis::backend {
namespace {

constexpr std::array<std::pair<std::string_view, Level>, 4> kLevels{
    {{"debug", Level::Debug}, {"info", Level::Info}, {"warn", Level::Warn}, {"error", Level::Error}}};

std::atomic<Level> g_level{Level::Info};
std::atomic<LogFormat> g_format{LogFormat::Text};
std::mutex g_mutex;

std::string_view level_name(Level level) {
    for (const auto& [name, l] : kLevels)
        if (l == level) return name;
    return "?";
}

void write_line(std::string line) {
    line += '\n';
    std::lock_guard lock(g_mutex);
    std::fwrite(line.data(), 1, line.size(), stderr);
    std::fflush(stderr);
}

std::string json_line(std::string_view level, std::string_view source, std::string_view message) {
    nlohmann::ordered_json line{{"time", utc_text_ms(std::chrono::system_clock::now())},
                                {"level", level},
                                {"source", source},
                                {"msg", message}};
    return line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

LogFormat parse_log_format(std::string_view text) {
    if (text == "text") return LogFormat::Text;
    if (text == "json") return LogFormat::Json;
    throw Error(Code::ConfigInvalid, "log-format: \"" + excerpt(text) + "\" is not one of text, json");
}

void set_log_format(LogFormat format) { g_format = format; }

Level parse_level(std::string_view text) {
    for (const auto& [name, l] : kLevels)
        if (name == text) return l;
    throw Error(Code::ConfigInvalid, "log-level: \"" + std::string(text) + "\" is not one of debug, info, warn, error");
}

void set_log_level(Level level) { g_level = level; }

void log(Level level, std::string_view message) {
    if (level < g_level.load()) return;
    if (g_format.load() == LogFormat::Json) return write_line(json_line(level_name(level), "trellis-backend", message));
    std::string line = utc_text_ms(std::chrono::system_clock::now()) + " " + std::string(level_name(level)) + " " +
                       std::string(message);
    for (auto& c : line)
        if (c == '\n') c = ' ';  // one event, one line
    write_line(std::move(line));
}

void log_raw(std::string_view line) {
    if (g_format.load() == LogFormat::Text) return write_line(std::string(line));
    // etcd's zap logger writes one JSON object a line: kept as it is, with its source named.
    auto doc = nlohmann::ordered_json::parse(line, nullptr, false);
    if (!doc.is_object()) return write_line(json_line("info", "etcd", line));
    doc["source"] = "etcd";
    write_line(doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

}  // namespace trellis::backend
