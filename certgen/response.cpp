#include "response.hpp"

#include <array>
#include <memory>

#include "core/error.hpp"
#include "core/files.hpp"
#include "core/strict_json.hpp"
#include "core/text.hpp"

namespace trellis::certgen {
namespace {

using nlohmann::json;

// The members cfssljson knows, the first present alias wins; `base64` members
// carry DER and are decoded before writing.
struct Member {
    std::array<std::string_view, 2> aliases;
    std::string_view suffix;
    mode_t mode;
    bool base64;
};
constexpr std::array<Member, 6> kMembers{{
    {{"cert", "certificate"}, ".pem", kPublicMode, false},
    {{"key", "private_key"}, "-key.pem", kSecretMode, false},
    {{"encrypted_key", ""}, "-key.enc", kSecretMode, false},
    {{"csr", "certificate_request"}, ".csr", kPublicMode, false},
    {{"ocspResponse", ""}, "-response.der", kPublicMode, true},
    {{"crl", ""}, ".crl", kPublicMode, true},
}};

std::string string_member(const json& object, std::string_view key, std::string_view where) {
    const json& value = object.at(std::string(key));
    if (!value.is_string())
        throw Error(Code::InputWrongType,
                    located(where, std::string(key) + ": expected a string, got " + value.type_name()));
    return value.get<std::string>();
}

std::string decode(const std::string& text, std::string_view key, std::string_view where) {
    // cfssljson takes line-wrapped base64 too.
    const auto bytes = text.empty() ? std::nullopt : trellis::base64_decode(text, /*ignore_space=*/true);
    if (!bytes) throw Error(Code::InputInvalidValue, located(where, std::string(key) + ": not valid base64"));
    return *bytes;
}

const json& unwrap(const json& doc, std::string_view source) {
    if (!doc.contains("success")) {
        throw Error(Code::InputMissingKey,
                    located(source,
                            "no \"success\" key: this is not a cfssl API response; pass -bare for the output "
                            "of certgen or cfssl gencert"));
    }
    if (!doc["success"].is_boolean())
        throw Error(Code::InputWrongType, located(source, "success: expected true or false"));
    if (!doc["success"].get<bool>()) {
        std::string why;
        if (doc.contains("errors") && doc["errors"].is_array())
            for (const auto& e : doc["errors"])
                if (e.is_object() && e.contains("message") && e["message"].is_string())
                    why += (why.empty() ? "" : "; ") + e["message"].get<std::string>();
        throw Error(Code::InputInvalidValue,
                    located(source, "the response reports failure" + (why.empty() ? std::string() : ": " + why)));
    }
    if (!doc.contains("result") || !doc["result"].is_object())
        throw Error(Code::InputMissingKey, located(source, "result: missing or not an object"));
    return doc["result"];
}

}  // namespace

std::vector<OutputFile> files_from_response(std::string_view text, bool bare, std::string_view source,
                                            std::string_view prefix) {
    if (text.find_first_not_of(" \t\r\n") == std::string_view::npos)
        throw Error(Code::InputMalformed,
                    located(source, "no input (did the command before the pipe fail? its error is above)"));
    const json doc = parse_json(text, source);
    if (!doc.is_object()) throw Error(Code::InputWrongType, located(source, "expected a JSON object"));
    const json& input = bare ? doc : unwrap(doc, source);
    const std::string base(prefix);

    std::vector<OutputFile> out;
    auto add = [&](std::string suffix, std::string contents, bool binary, mode_t mode) {
        if (!contents.empty()) out.push_back({base + suffix, std::move(contents), binary, mode});
    };
    for (const auto& m : kMembers) {
        for (const auto alias : m.aliases) {
            if (alias.empty() || !input.contains(std::string(alias))) continue;
            std::string value = string_member(input, alias, source);
            if (m.base64) value = decode(value, alias, source);
            add(std::string(m.suffix), std::move(value), m.base64, m.mode);
            break;
        }
        // cfssl bundle output: old releases put a PEM string in "bundle", newer ones
        // {"bundle":{"bundle":..,"root":..}} under result; written after the CSR.
        if (m.suffix != ".csr") continue;
        if (input.contains("bundle")) {
            const json& bundle = input["bundle"];
            if (bundle.is_string()) {
                add("-bundle.pem", bundle.get<std::string>(), false, kPublicMode);
            } else if (bundle.is_object()) {
                const std::string where = std::string(source) + ": bundle";
                const std::string chain = bundle.contains("bundle") ? string_member(bundle, "bundle", where) : "";
                const std::string root = bundle.contains("root") ? string_member(bundle, "root", where) : "";
                if (chain.empty() || root.empty())
                    throw Error(Code::InputMissingKey, located(where, "expected both \"bundle\" and \"root\""));
                add("-bundle.pem", chain + "\n" + root, false, kPublicMode);
                add("-root.pem", root, false, kPublicMode);
            } else {
                throw Error(Code::InputWrongType, located(source, "bundle: expected a string or an object"));
            }
        }
    }
    if (out.empty())
        throw Error(Code::InputMissingKey,
                    located(source, "nothing to write: no cert, key, csr, bundle, ocspResponse or crl member"));
    return out;
}

}  // namespace trellis::certgen
