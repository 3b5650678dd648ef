// Why an embedded etcd stopped or cannot start, read from its own log lines, in words a user can act
// on: the member was removed from the cluster, its data belongs to another cluster, its data is
// damaged, or a file is not ours to use. A table (first match wins); the backend adds the paths and
// the command that fixes it.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace trellis::store {

enum class EtcdFailure {
    Permission,   // a file or directory etcd may not read or write
    Removed,      // this member was removed from the cluster (its data names a member that is gone)
    ForeignData,  // the data belongs to another cluster than the peers' ("cluster ID mismatch")
    DamagedData,  // a corrupt or truncated WAL, snapshot or database
};

struct EtcdFailurePattern {
    std::string_view text;  // a substring of etcd's log line (zap's "msg" or "error", or capnslog's text)
    EtcdFailure failure;
};
std::span<const EtcdFailurePattern> etcd_failure_patterns();

struct EtcdDiagnosis {
    EtcdFailure failure;
    std::string evidence;  // etcd's own words from the matching line: "msg: error" for zap's JSON lines
};

// The first pattern that one of `lines` (oldest first) matches, by the table's order; nullopt when none.
std::optional<EtcdDiagnosis> diagnose_etcd_lines(const std::vector<std::string>& lines);
std::optional<EtcdDiagnosis> diagnose_etcd_line(std::string_view line);

}  // namespace trellis::store
