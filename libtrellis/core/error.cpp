#include "core/error.hpp"

#include <array>
#include <utility>

#include <nlohmann/json.hpp>

namespace trellis {
namespace {

constexpr auto kNames = std::to_array<CodeInfo>({
    {Code::CertReadFailed, "CertReadFailed"},
    {Code::CertDecodeFailed, "CertDecodeFailed"},
    {Code::CertParseFailed, "CertParseFailed"},
    {Code::CertNotCA, "CertNotCA"},
    {Code::CertVerifyFailed, "CertVerifyFailed"},
    {Code::CertExpired, "CertExpired"},
    {Code::CertSignFailed, "CertSignFailed"},
    {Code::CertBadRequest, "CertBadRequest"},
    {Code::KeyReadFailed, "KeyReadFailed"},
    {Code::KeyDecodeFailed, "KeyDecodeFailed"},
    {Code::KeyParseFailed, "KeyParseFailed"},
    {Code::KeyEncrypted, "KeyEncrypted"},
    {Code::KeyBadPassphrase, "KeyBadPassphrase"},
    {Code::KeyUnsupported, "KeyUnsupported"},
    {Code::KeyMismatch, "KeyMismatch"},
    {Code::KeyGenerationFailed, "KeyGenerationFailed"},
    {Code::PolicyInvalid, "PolicyInvalid"},
    {Code::PolicyUnknownProfile, "PolicyUnknownProfile"},
    {Code::PolicyUnknownUsage, "PolicyUnknownUsage"},
    {Code::PolicyNoUsages, "PolicyNoUsages"},
    {Code::PolicyBadDuration, "PolicyBadDuration"},
    {Code::PolicyNameNotAllowed, "PolicyNameNotAllowed"},
    {Code::CsrInvalid, "CsrInvalid"},
    {Code::CsrBadHost, "CsrBadHost"},
    {Code::CsrParseFailed, "CsrParseFailed"},
    {Code::CsrSignatureInvalid, "CsrSignatureInvalid"},
    {Code::InputMalformed, "InputMalformed"},
    {Code::InputWrongType, "InputWrongType"},
    {Code::InputUnknownKey, "InputUnknownKey"},
    {Code::InputMissingKey, "InputMissingKey"},
    {Code::InputInvalidValue, "InputInvalidValue"},
    {Code::Usage, "Usage"},
    {Code::FileReadFailed, "FileReadFailed"},
    {Code::FileWriteFailed, "FileWriteFailed"},
    {Code::FileExists, "FileExists"},
    {Code::FilePermissions, "FilePermissions"},
    {Code::SpecInvalid, "SpecInvalid"},
    {Code::ConfigInvalid, "ConfigInvalid"},
    {Code::LintFindings, "LintFindings"},
    {Code::StoreUnavailable, "StoreUnavailable"},
    {Code::StoreRequestFailed, "StoreRequestFailed"},
    {Code::StoreProcessFailed, "StoreProcessFailed"},
    {Code::MemberNotFound, "MemberNotFound"},
    {Code::MemberRemoved, "MemberRemoved"},
    {Code::StoreDataDamaged, "StoreDataDamaged"},
    {Code::StoreDataForeign, "StoreDataForeign"},
    {Code::ConnectFailed, "ConnectFailed"},
    {Code::TlsFailed, "TlsFailed"},
    {Code::HttpError, "HttpError"},
    {Code::Internal, "Internal"},
});

}  // namespace

std::string_view code_name(Code code) {
    for (const auto& [c, name] : kNames)
        if (c == code) return name;
    return "Unknown";
}

std::span<const CodeInfo> all_codes() { return kNames; }

std::string Error::to_json() const { return nlohmann::json{{"code", number()}, {"message", what()}}.dump(); }

std::string located(std::string_view where, std::string_view what) {
    std::string out;
    if (!where.empty()) {
        out.append(where);
        out.append(": ");
    }
    out.append(what);
    return out;
}

}  // namespace trellis
