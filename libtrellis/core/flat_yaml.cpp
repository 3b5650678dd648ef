#include "core/flat_yaml.hpp"

#include <yaml-cpp/yaml.h>

#include <set>

#include "core/error.hpp"

namespace trellis {
namespace {

[[noreturn]] void refuse(std::string_view source, const YAML::Mark& mark, const std::string& why) {
    throw Error(Code::ConfigInvalid, std::string(source) + ":" + std::to_string(mark.line + 1) + ": " + why);
}

YAML::Node load(std::string_view text, std::string_view source) {
    try {
        return YAML::Load(std::string(text));
    } catch (const YAML::Exception& e) {
        refuse(source, e.mark, "not valid YAML: " + e.msg);
    }
}

FlatEntry entry(const YAML::Node& key, const YAML::Node& value, std::string_view source) {
    // `[a]: x` and `{a: b}: x` are legal YAML; Scalar() on them would be an internal error.
    if (!key.IsScalar()) refuse(source, key.Mark(), "a key must be a plain name, not a list or a mapping");
    FlatEntry out{key.Scalar(), key.Mark().line + 1, {}, value.IsSequence()};
    if (value.IsScalar()) {
        out.values.push_back(value.Scalar());
    } else if (value.IsSequence()) {
        for (const auto& item : value) {
            if (!item.IsScalar())
                refuse(source, item.Mark(), out.key + ": each entry must be a plain value, not a list or a mapping");
            out.values.push_back(item.Scalar());
        }
    } else if (value.IsMap()) {
        refuse(source, key.Mark(), out.key + ": expected a value or a list of values, not a mapping");
    }
    return out;
}

}  // namespace

std::vector<FlatEntry> read_flat_yaml(std::string_view text, std::string_view source, std::string_view expected) {
    const YAML::Node root = load(text, source);
    std::vector<FlatEntry> out;
    if (root.IsNull()) return out;
    if (!root.IsMap()) refuse(source, root.Mark(), "expected a mapping of " + std::string(expected));
    std::set<std::string> seen;
    for (const auto& item : root) {
        out.push_back(entry(item.first, item.second, source));
        if (!seen.insert(out.back().key).second)
            refuse(source, item.first.Mark(), out.back().key + ": set twice in the same file; keep one");
    }
    return out;
}

}  // namespace trellis
