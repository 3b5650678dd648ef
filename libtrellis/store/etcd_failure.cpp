#include "store/etcd_failure.hpp"

#include <array>

#include <nlohmann/json.hpp>

namespace trellis::store {
namespace {

// etcd 3.4's words (zap and capnslog say the same). Permission first: a file etcd may not open
// also makes it report the data as unreadable.
constexpr std::array kPatterns{
    EtcdFailurePattern{"permission denied", EtcdFailure::Permission},
    EtcdFailurePattern{"the member has been permanently removed from the cluster", EtcdFailure::Removed},
    EtcdFailurePattern{"has already been removed from the cluster", EtcdFailure::Removed},
    EtcdFailurePattern{"cluster ID mismatch", EtcdFailure::ForeignData},
    EtcdFailurePattern{"crc mismatch", EtcdFailure::DamagedData},
    EtcdFailurePattern{"failed to read WAL", EtcdFailure::DamagedData},
    EtcdFailurePattern{"failed to open WAL", EtcdFailure::DamagedData},
    EtcdFailurePattern{"failed to repair WAL", EtcdFailure::DamagedData},
    EtcdFailurePattern{"failed to find database snapshot file", EtcdFailure::DamagedData},
    EtcdFailurePattern{"failed to recover v3 backend", EtcdFailure::DamagedData},
    EtcdFailurePattern{"failed to open database", EtcdFailure::DamagedData},
    EtcdFailurePattern{"failed to load", EtcdFailure::DamagedData},
    EtcdFailurePattern{"invalid database", EtcdFailure::DamagedData},
    EtcdFailurePattern{"file size too small", EtcdFailure::DamagedData},
};

// A zap line is JSON: its message and error say it; anything else is taken as it is.
std::string evidence_of(std::string_view line) {
    const auto brace = line.find('{');
    if (brace != std::string_view::npos) {
        const auto doc = nlohmann::json::parse(line.substr(brace), nullptr, false);
        if (doc.is_object() && doc.contains("msg") && doc["msg"].is_string()) {
            std::string out = doc["msg"].get<std::string>();
            if (doc.contains("error") && doc["error"].is_string()) out += ": " + doc["error"].get<std::string>();
            return out;
        }
    }
    return std::string(line.substr(0, 300));
}

}  // namespace

std::span<const EtcdFailurePattern> etcd_failure_patterns() { return kPatterns; }

std::optional<EtcdDiagnosis> diagnose_etcd_line(std::string_view line) {
    for (const auto& p : kPatterns)
        if (line.find(p.text) != std::string_view::npos) return EtcdDiagnosis{p.failure, evidence_of(line)};
    return std::nullopt;
}

std::optional<EtcdDiagnosis> diagnose_etcd_lines(const std::vector<std::string>& lines) {
    std::optional<EtcdDiagnosis> best;
    std::size_t best_rank = kPatterns.size();
    for (const auto& line : lines)
        for (std::size_t i = 0; i < best_rank; ++i)
            if (line.find(kPatterns[i].text) != std::string::npos) {
                best = EtcdDiagnosis{kPatterns[i].failure, evidence_of(line)};
                best_rank = i;
                break;
            }
    return best;
}

}  // namespace trellis::store
