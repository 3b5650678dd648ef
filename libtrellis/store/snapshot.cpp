#include "store/snapshot.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <thread>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/text.hpp"
#include "store/etcd_process.hpp"

extern char** environ;

namespace fs = std::filesystem;

namespace trellis::store {
namespace {

using nlohmann::json;

// bbolt writes whole pages; etcdctl takes size % 512 == 32 as "a db followed by its SHA-256".
constexpr std::uint64_t kPageAlign = 512;

Error corrupt(const fs::path& file, const std::string& why) {
    return Error(Code::SnapshotCorrupt, located(file.string(), why + " (take a new snapshot; docs/recovery.md)"));
}

// Everything written to an in-memory file, for a child's stdout/stderr.
std::string drain(int fd) {
    std::string out;
    ::lseek(fd, 0, SEEK_SET);
    char buf[8192];
    for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) out.append(buf, static_cast<std::size_t>(n));
    return out;
}

std::string first_line(std::string text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    const auto last = text.rfind('\n');
    return last == std::string::npos ? text : text.substr(last + 1);  // etcdctl's error is its last line
}

std::int64_t json_int(const json& j, const char* key) {
    const auto it = j.find(key);
    if (it == j.end() || !it->is_number_integer())
        throw Error(Code::SnapshotCorrupt, std::string("etcdctl snapshot status: no \"") + key + "\" in its answer");
    return it->get<std::int64_t>();
}

}  // namespace

SnapshotIntegrity check_snapshot(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    std::error_code ec;
    const auto size = fs::file_size(file, ec);
    if (!in || ec) throw Error(Code::FileReadFailed, located(file.string(), "cannot read the snapshot"));
    if (size < kPageAlign + kSnapshotHashSize)
        throw corrupt(file, "only " + std::to_string(size) + " bytes: not an etcd snapshot");
    if (size % kPageAlign != kSnapshotHashSize)
        throw corrupt(file, "size " + std::to_string(size) +
                                " is not a bbolt db followed by etcd's 32-byte SHA-256 (truncated or not a snapshot)");
    const std::uint64_t db_size = size - kSnapshotHashSize;
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr);
    std::vector<char> buf(1 << 16);
    for (std::uint64_t left = db_size; left > 0;) {
        const auto n = static_cast<std::streamsize>(std::min<std::uint64_t>(left, buf.size()));
        if (!in.read(buf.data(), n)) throw Error(Code::FileReadFailed, located(file.string(), "read failed"));
        EVP_DigestUpdate(ctx.get(), buf.data(), static_cast<std::size_t>(n));
        left -= static_cast<std::uint64_t>(n);
    }
    std::array<unsigned char, kSnapshotHashSize> want{}, got{};
    if (!in.read(reinterpret_cast<char*>(want.data()), want.size()))
        throw Error(Code::FileReadFailed, located(file.string(), "read failed"));
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx.get(), got.data(), &len);
    if (want != got)
        throw corrupt(file, "SHA-256 of the db is " + hex(got.data(), got.size()) + " but etcd recorded " +
                                hex(want.data(), want.size()) + " (damaged or truncated)");
    return {size, db_size, hex(want.data(), want.size())};
}

fs::path find_etcdctl(const std::string& explicit_path, const fs::path& self_exe) {
    return find_etcd_tool("etcdctl", explicit_path, self_exe, "--etcdctl");
}

ToolRun run_tool(const fs::path& binary, const std::vector<std::string>& args, std::chrono::seconds timeout) {
    const int out = ::memfd_create("tool-out", MFD_CLOEXEC), err = ::memfd_create("tool-err", MFD_CLOEXEC);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, out, 1);
    posix_spawn_file_actions_adddup2(&actions, err, 2);
    std::vector<std::string> argv{binary.string()};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<char*> ptrs;
    for (auto& a : argv) ptrs.push_back(a.data());
    ptrs.push_back(nullptr);
    pid_t pid = -1;
    const int rc = ::posix_spawn(&pid, binary.c_str(), &actions, nullptr, ptrs.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ToolRun run;
    if (rc == 0) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        int status = 0;
        while (::waitpid(pid, &status, WNOHANG) == 0) {
            if (std::chrono::steady_clock::now() > deadline) {
                ::kill(pid, SIGKILL);
                ::waitpid(pid, &status, 0);
                status = -1;
                break;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        run.exit_code = status >= 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        run.out = drain(out);
        run.err = drain(err);
    }
    ::close(out);
    ::close(err);
    if (rc != 0) throw Error(Code::StoreProcessFailed, "cannot run " + binary.string() + ": " + std::strerror(rc));
    return run;
}

SnapshotStatus snapshot_status(const fs::path& etcdctl, const fs::path& file) {
    SnapshotStatus status;
    status.integrity = check_snapshot(file);
    const ToolRun run =
        run_tool(etcdctl, {"snapshot", "status", file.string(), "--write-out=json"}, std::chrono::seconds(60));
    if (run.exit_code != 0)
        throw corrupt(file, "etcdctl snapshot status failed: " + first_line(run.err.empty() ? run.out : run.err));
    json answer;
    try {
        answer = json::parse(run.out);
    } catch (const json::exception&) {
        throw corrupt(file, "etcdctl snapshot status answered something that is not JSON: " + first_line(run.out));
    }
    status.hash = static_cast<std::uint32_t>(json_int(answer, "hash"));
    status.revision = json_int(answer, "revision");
    status.total_keys = json_int(answer, "totalKey");
    status.total_size = json_int(answer, "totalSize");
    return status;
}

void restore_snapshot(const fs::path& etcdctl, const fs::path& file, const RestoreMember& m) {
    std::error_code ec;
    if (fs::exists(m.data_dir, ec))
        throw Error(Code::FileExists, located(m.data_dir.string(),
                                              "already exists: restore never touches existing etcd data; move it "
                                              "away or choose another --state-root"));
    const std::string peers = join(m.initial_advertise_peer_urls, ",");
    const ToolRun run =
        run_tool(etcdctl,
                 {"snapshot", "restore", file.string(), "--name=" + m.name, "--initial-cluster=" + m.initial_cluster,
                  "--initial-advertise-peer-urls=" + peers, "--initial-cluster-token=" + m.initial_cluster_token,
                  "--data-dir=" + m.data_dir.string()},
                 std::chrono::seconds(300));
    if (run.exit_code != 0) {
        fs::remove_all(m.data_dir, ec);  // etcdctl's own half-written data dir, never anything older
        throw Error(Code::StoreProcessFailed,
                    located(m.data_dir.string(),
                            "etcdctl snapshot restore failed: " + first_line(run.err.empty() ? run.out : run.err)));
    }
    fs::permissions(m.data_dir, fs::perms::owner_all, ec);
}

}  // namespace trellis::store
