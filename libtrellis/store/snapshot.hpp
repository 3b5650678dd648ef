// etcd v3 snapshots (docs/recovery.md): streaming one from a member, the integrity check etcdctl
// makes (etcd appends the SHA-256 of the bbolt db to the stream), and what only etcd's own tool
// should do with the bbolt file itself: its status (revision, keys, hash) and a restore into a
// new member's data dir. The installed etcdctl runs those, so the file format stays etcd's.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "store/etcd_client.hpp"

namespace trellis::store {

// The trailer etcd appends to a snapshot stream: SHA-256 of everything before it.
inline constexpr std::size_t kSnapshotHashSize = 32;

// What the integrity check found: the whole file's size, the db's, and the SHA-256 (hex) etcd sent.
struct SnapshotIntegrity {
    std::uint64_t file_size = 0;
    std::uint64_t db_size = 0;
    std::string sha256;
};

// Checks `file` as `etcdctl snapshot restore` does: a bbolt db is whole 512-byte pages, so its size
// modulo 512 must be the 32-byte hash, and that hash must be the SHA-256 of the rest.
// Code::SnapshotCorrupt naming the file and what is wrong; Code::FileReadFailed if unreadable.
SnapshotIntegrity check_snapshot(const std::filesystem::path& file);

// Streams the snapshot of the member at `endpoint` (the gateway's Maintenance.Snapshot: the db, then
// its SHA-256) piece by piece into `sink`. Returns "" when the stream ended cleanly, else what broke it
// after the first piece (the caller's integrity check decides; etcd's gateway may end a whole stream
// with a trailer cpp-httplib reports as an error). Throws before the first piece.
std::string stream_snapshot(EtcdClient& client, const Url& endpoint, const std::function<void(std::string_view)>& sink);

// What `etcdctl snapshot status -w json` reports, plus our integrity check.
struct SnapshotStatus {
    std::uint32_t hash = 0;  // etcd's CRC-32 of the keyspace (etcdctl's "hash")
    std::int64_t revision = 0;
    std::int64_t total_keys = 0;
    std::int64_t total_size = 0;  // the db's size as bbolt reports it
    SnapshotIntegrity integrity;
};

// The installed etcdctl: `explicit_path` if given, else next to `self_exe`, else on PATH.
std::filesystem::path find_etcdctl(const std::string& explicit_path, const std::filesystem::path& self_exe);

// The integrity check, then `etcdctl snapshot status`. Code::SnapshotCorrupt if either fails.
SnapshotStatus snapshot_status(const std::filesystem::path& etcdctl, const std::filesystem::path& file);

// One member of the cluster a snapshot is restored into.
struct RestoreMember {
    std::string name;
    std::string initial_cluster;  // name=peer-url,... of every member
    std::vector<std::string> initial_advertise_peer_urls;
    std::string initial_cluster_token;
    std::filesystem::path data_dir;  // must not exist yet
};

// `etcdctl snapshot restore` into member.data_dir (which it creates, 0700). Code::FileExists if the
// data dir exists; Code::StoreProcessFailed with etcdctl's output if it fails.
void restore_snapshot(const std::filesystem::path& etcdctl, const std::filesystem::path& file,
                      const RestoreMember& member);

// A short-lived tool's run, bounded in time: exit code (-1 when killed at the timeout) and its output.
struct ToolRun {
    int exit_code = -1;
    std::string out;
    std::string err;
};
ToolRun run_tool(const std::filesystem::path& binary, const std::vector<std::string>& args,
                 std::chrono::seconds timeout);

}  // namespace trellis::store
