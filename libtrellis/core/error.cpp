#include "core/error.hpp"

#include <array>
#include <utility>

#include <nlohmann/json.hpp>

#include "core/text.hpp"

namespace trellis {
namespace {

constexpr auto kNames = std::to_array<CodeInfo>({
    {Code::CertDecodeFailed, "CertDecodeFailed"},
    {Code::CertParseFailed, "CertParseFailed"},
    {Code::CertNotCA, "CertNotCA"},
    {Code::CertVerifyFailed, "CertVerifyFailed"},
    {Code::CertExpired, "CertExpired"},
    {Code::CertSignFailed, "CertSignFailed"},
    {Code::CertBadRequest, "CertBadRequest"},
    {Code::CertRenewalDue, "CertRenewalDue"},
    {Code::CertUnknownName, "CertUnknownName"},
    {Code::RotationOutOfOrder, "RotationOutOfOrder"},
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
    {Code::PolicyCaNotAllowed, "PolicyCaNotAllowed"},
    {Code::CsrInvalid, "CsrInvalid"},
    {Code::CsrBadHost, "CsrBadHost"},
    {Code::CsrParseFailed, "CsrParseFailed"},
    {Code::CsrSignatureInvalid, "CsrSignatureInvalid"},
    {Code::CsrWeakSignature, "CsrWeakSignature"},
    {Code::InputMalformed, "InputMalformed"},
    {Code::InputWrongType, "InputWrongType"},
    {Code::InputUnknownKey, "InputUnknownKey"},
    {Code::InputMissingKey, "InputMissingKey"},
    {Code::InputInvalidValue, "InputInvalidValue"},
    {Code::Usage, "Usage"},
    {Code::InputDuplicateKey, "InputDuplicateKey"},
    {Code::InputTooDeep, "InputTooDeep"},
    {Code::FileReadFailed, "FileReadFailed"},
    {Code::FileWriteFailed, "FileWriteFailed"},
    {Code::FileExists, "FileExists"},
    {Code::FilePermissions, "FilePermissions"},
    {Code::FileTooLarge, "FileTooLarge"},
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
    {Code::SnapshotCorrupt, "SnapshotCorrupt"},
    {Code::QuorumReachable, "QuorumReachable"},
    {Code::RolloutIncomplete, "RolloutIncomplete"},
    {Code::ConnectFailed, "ConnectFailed"},
    {Code::TlsFailed, "TlsFailed"},
    {Code::HttpError, "HttpError"},
    {Code::Forbidden, "Forbidden"},
    {Code::Internal, "Internal"},
});

}  // namespace

std::string_view code_name(Code code) {
    for (const auto& [c, name] : kNames)
        if (c == code) return name;
    return "Unknown";
}

std::span<const CodeInfo> all_codes() { return kNames; }

std::string Error::to_json() const {
    // A message may quote input that is not UTF-8; replace such bytes rather than throw while reporting.
    return nlohmann::json{{"code", number()}, {"message", what()}}.dump(-1, ' ', false,
                                                                        nlohmann::json::error_handler_t::replace);
}

std::string located(std::string_view where, std::string_view what) {
    std::string out;
    if (!where.empty()) {
        out.append(where);
        out.append(": ");
    }
    out.append(what);
    return out;
}

namespace {

// Length of the valid UTF-8 sequence starting at text[i] (0 if invalid or a control character).
size_t printable_utf8(std::string_view text, size_t i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < 0x7f) return 1;
    const size_t n = c >= 0xf5 ? 0 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 ? 2 : 0;
    if (n == 0 || i + n > text.size()) return 0;
    for (size_t k = 1; k < n; ++k)
        if ((static_cast<unsigned char>(text[i + k]) & 0xc0) != 0x80) return 0;
    return n;
}

}  // namespace

std::string excerpt(std::string_view value, size_t limit) {
    std::string out;
    size_t i = 0;
    while (i < value.size() && out.size() < limit) {
        if (const size_t n = printable_utf8(value, i)) {
            out.append(value.substr(i, n));
            i += n;
            continue;
        }
        const char c = value[i++];
        if (c == '\n')
            out += "\\n";
        else if (c == '\t')
            out += "\\t";
        else if (c == '\r')
            out += "\\r";
        else
            out += "\\x" + hex(std::string_view(&c, 1));
    }
    if (i < value.size()) out += "... (" + std::to_string(value.size()) + " bytes)";
    return out;
}

}  // namespace trellis
