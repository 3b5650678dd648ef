#include "core/strict_json.hpp"

#include <algorithm>

#include "core/error.hpp"

namespace trellis {
namespace {

std::string type_name(const nlohmann::json& v) { return v.type_name(); }

size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<size_t> row(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= b.size(); ++j) {
            const size_t up = row[j];
            const bool same = std::tolower(static_cast<unsigned char>(a[i - 1])) ==
                              std::tolower(static_cast<unsigned char>(b[j - 1]));
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (same ? 0 : 1)});
            diag = up;
        }
    }
    return row[b.size()];
}

}  // namespace

namespace {

// Thrown from the parser callback; turned into an Error with the source name by parse_json.
struct Refused {
    Code code;
    std::string why;
};

[[noreturn]] void malformed(const nlohmann::json::parse_error& e, std::string_view text, std::string_view source) {
    // Turn nlohmann's byte offset into a line and column people can find.
    size_t line = 1, col = 1;
    for (size_t i = 0; i + 1 < e.byte && i < text.size(); ++i) {
        if (text[i] == '\n') {
            ++line;
            col = 1;
        } else {
            ++col;
        }
    }
    const std::string where = std::string(source) + ":" + std::to_string(line) + ":" + std::to_string(col);
    const std::string what = text.find_first_not_of(" \t\r\n") == std::string_view::npos
                                 ? "empty input, expected a JSON object"
                                 : "not valid JSON (check quotes, commas and braces near here)";
    throw Error(Code::InputMalformed, located(where, what));
}

bool same_ignoring_case(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
}

}  // namespace

nlohmann::json parse_json(std::string_view text, std::string_view source) {
    using Event = nlohmann::json::parse_event_t;
    // The keys of every object being read, innermost last: a repeated key is refused, because which
    // one wins differs between readers (cfssl's Go takes the last, others the first).
    std::vector<std::set<std::string, std::less<>>> keys;
    const auto check = [&](int depth, Event event, nlohmann::json& parsed) {
        if (depth > static_cast<int>(kMaxJsonDepth))
            throw Refused{Code::InputTooDeep, "nested deeper than " + std::to_string(kMaxJsonDepth) + " levels"};
        if (event == Event::object_start) keys.emplace_back();
        if (event == Event::object_end && !keys.empty()) keys.pop_back();
        if (event == Event::key && !keys.empty() && !keys.back().insert(parsed.get<std::string>()).second)
            throw Refused{Code::InputDuplicateKey,
                          "key \"" + excerpt(parsed.get<std::string>()) + "\" appears twice in one object"};
        return true;
    };
    try {
        return nlohmann::json::parse(text.begin(), text.end(), check);
    } catch (const nlohmann::json::parse_error& e) {
        malformed(e, text, source);
    } catch (const nlohmann::json::out_of_range& e) {
        // 406: a number beyond a double's range (1e400); nlohmann does not give its position.
        throw Error(Code::InputInvalidValue, located(source, "a number is too large for a double (beyond 1.8e308)"));
    } catch (const Refused& r) {
        throw Error(r.code, located(source, r.why));
    }
}

void check_depth(const nlohmann::json& doc, std::string_view source) {
    // Iterative, so the check itself cannot overflow the stack it protects.
    std::vector<std::pair<const nlohmann::json*, size_t>> todo{{&doc, 1}};
    while (!todo.empty()) {
        const auto [v, depth] = todo.back();
        todo.pop_back();
        if (!v->is_structured()) continue;
        if (depth > kMaxJsonDepth)
            throw Error(Code::InputTooDeep,
                        located(source, "nested deeper than " + std::to_string(kMaxJsonDepth) + " levels"));
        for (const auto& child : *v) todo.emplace_back(&child, depth + 1);
    }
}

std::optional<std::string> closest_match(std::string_view word, const std::vector<std::string>& candidates) {
    // Hostile input can name a key megabytes long; no known name is that long, and the distance is at
    // least the difference in length, so neither case needs the quadratic comparison.
    constexpr size_t kLongestSuggestible = 64;
    std::optional<std::string> best;
    if (word.size() > kLongestSuggestible) return best;
    size_t best_distance = std::max<size_t>(2, word.size() / 3) + 1;
    for (const auto& c : candidates) {
        const size_t gap = c.size() > word.size() ? c.size() - word.size() : word.size() - c.size();
        if (gap >= best_distance) continue;
        const size_t d = edit_distance(word, c);
        if (d < best_distance) {
            best_distance = d;
            best = c;
        }
    }
    return best;
}

JsonObject::JsonObject(const nlohmann::json& value, std::string source, std::string path)
    : value_(&value), source_(std::move(source)), path_(std::move(path)) {
    if (!value.is_object())
        throw Error(Code::InputWrongType, located(source_, (path_.empty() ? std::string("document") : path_) +
                                                               ": expected an object, got " + type_name(value)));
}

std::string JsonObject::where(std::string_view key) const {
    if (path_.empty()) return std::string(key);
    if (key.empty()) return path_;
    return path_ + "." + std::string(key);
}

void JsonObject::fail(Code code, std::string_view key, std::string_view why) const {
    throw Error(code, located(source_, where(key) + ": " + std::string(why)));
}

const nlohmann::json* JsonObject::take(std::string_view key) {
    seen_.emplace(key);
    auto it = value_->find(key);
    if (it == value_->end()) {
        // Go's encoding/json would take "Usages" for "usages"; we name it rather than read it as absent
        // and then fail on a misleading "missing".
        for (auto other = value_->begin(); other != value_->end(); ++other)
            if (!seen_.contains(other.key()) && same_ignoring_case(other.key(), key))
                fail(Code::InputUnknownKey, other.key(), "unknown key (did you mean \"" + std::string(key) + "\"?)");
        return nullptr;
    }
    if (it->is_null()) return nullptr;
    return &*it;
}

const nlohmann::json* JsonObject::raw(std::string_view key) { return take(key); }

std::optional<std::string> JsonObject::string(std::string_view key) {
    const auto* v = take(key);
    if (v == nullptr) return std::nullopt;
    if (!v->is_string()) fail(Code::InputWrongType, key, "expected a string, got " + type_name(*v));
    return v->get<std::string>();
}

std::optional<std::int64_t> JsonObject::integer(std::string_view key) {
    const auto* v = take(key);
    if (v == nullptr) return std::nullopt;
    if (!v->is_number_integer()) fail(Code::InputWrongType, key, "expected a whole number, got " + type_name(*v));
    return v->get<std::int64_t>();
}

std::optional<bool> JsonObject::boolean(std::string_view key) {
    const auto* v = take(key);
    if (v == nullptr) return std::nullopt;
    if (!v->is_boolean()) fail(Code::InputWrongType, key, "expected true or false, got " + type_name(*v));
    return v->get<bool>();
}

std::optional<std::vector<std::string>> JsonObject::strings(std::string_view key, bool allow_single) {
    const auto* v = take(key);
    if (v == nullptr) return std::nullopt;
    if (allow_single && v->is_string()) return std::vector<std::string>{v->get<std::string>()};
    if (!v->is_array()) fail(Code::InputWrongType, key, "expected a list of strings, got " + type_name(*v));
    std::vector<std::string> out;
    for (size_t i = 0; i < v->size(); ++i) {
        const auto& item = (*v)[i];
        if (!item.is_string())
            fail(Code::InputWrongType, std::string(key) + "[" + std::to_string(i) + "]",
                 "expected a string, got " + type_name(item));
        out.push_back(item.get<std::string>());
    }
    return out;
}

std::optional<JsonObject> JsonObject::object(std::string_view key) {
    const auto* v = take(key);
    if (v == nullptr) return std::nullopt;
    return JsonObject(*v, source_, where(key));
}

std::optional<std::vector<JsonObject>> JsonObject::objects(std::string_view key) {
    const auto* v = take(key);
    if (v == nullptr) return std::nullopt;
    if (!v->is_array()) fail(Code::InputWrongType, key, "expected a list of objects, got " + type_name(*v));
    std::vector<JsonObject> out;
    for (size_t i = 0; i < v->size(); ++i)
        out.emplace_back((*v)[i], source_, where(key) + "[" + std::to_string(i) + "]");
    return out;
}

std::vector<std::pair<std::string, JsonObject>> JsonObject::members(std::string_view key) {
    std::vector<std::pair<std::string, JsonObject>> out;
    const auto* v = take(key);
    if (v == nullptr) return out;
    if (!v->is_object()) fail(Code::InputWrongType, key, "expected an object, got " + type_name(*v));
    for (auto it = v->begin(); it != v->end(); ++it)
        out.emplace_back(it.key(), JsonObject(it.value(), source_, where(key) + "." + it.key()));
    return out;
}

void JsonObject::finish() const {
    std::vector<std::string> known(seen_.begin(), seen_.end());
    for (auto it = value_->begin(); it != value_->end(); ++it) {
        if (seen_.contains(it.key())) continue;
        std::string why = "unknown key";
        if (auto guess = closest_match(it.key(), known)) why += " (did you mean \"" + *guess + "\"?)";
        fail(Code::InputUnknownKey, it.key(), why);
    }
}

}  // namespace trellis
