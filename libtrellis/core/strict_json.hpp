// Strict reading of JSON documents (CSR requests, ca-config): every key must be
// known, every value of the right type, and every error names the source file,
// the key path and the reason. cfssl silently ignores what it does not know;
// we do not, because a misspelt "usages" is a certificate with the wrong rights.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.hpp"

namespace trellis {

// How deep a JSON document we read or print: recursive code (nlohmann's dump, our views) stays far
// from the stack's end whatever a file or a server sends.
inline constexpr size_t kMaxJsonDepth = 256;

// Parses text, failing with Code::InputMalformed and the line/column of the problem,
// Code::InputDuplicateKey for a key repeated in one object, Code::InputTooDeep beyond
// kMaxJsonDepth and Code::InputInvalidValue for a number beyond a double (1e400).
nlohmann::json parse_json(std::string_view text, std::string_view source);

// Code::InputTooDeep naming `source` when `doc` nests deeper than kMaxJsonDepth (for documents
// not read with parse_json, before recursing over them).
void check_depth(const nlohmann::json& doc, std::string_view source);

// The candidate closest to `word` by edit distance, if close enough to be a likely typo.
std::optional<std::string> closest_match(std::string_view word, const std::vector<std::string>& candidates);

class JsonObject {
  public:
    // `value` must be an object, else Code::InputWrongType. `path` is the key path so far ("signing.profiles.peer").
    JsonObject(const nlohmann::json& value, std::string source, std::string path = {});

    std::optional<std::string> string(std::string_view key);
    std::optional<std::int64_t> integer(std::string_view key);
    std::optional<bool> boolean(std::string_view key);
    // An array of strings; a single string is accepted when `allow_single` (cfssl does this for some keys).
    std::optional<std::vector<std::string>> strings(std::string_view key, bool allow_single = false);
    std::optional<JsonObject> object(std::string_view key);
    std::optional<std::vector<JsonObject>> objects(std::string_view key);
    // Every member of an object-valued key, as (name, object) pairs.
    std::vector<std::pair<std::string, JsonObject>> members(std::string_view key);
    const nlohmann::json* raw(std::string_view key);
    // Marks `key` as known without reading it: finish() will not call it unknown, and no other
    // key is taken for a case variant of it (for keys spelt two ways, like cfssl's "policies").
    void accept(std::string_view key) { seen_.emplace(key); }

    // Fails with Code::InputUnknownKey for the first key nobody asked for, suggesting the closest known one.
    void finish() const;

    // Throws an Error whose message is "<source>: <path.key>: <why>".
    [[noreturn]] void fail(Code code, std::string_view key, std::string_view why) const;
    std::string where(std::string_view key) const;
    const std::string& source() const { return source_; }

  private:
    const nlohmann::json* take(std::string_view key);

    const nlohmann::json* value_;
    std::string source_;
    std::string path_;
    std::set<std::string, std::less<>> seen_;
};

}  // namespace trellis
