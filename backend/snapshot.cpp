#include "snapshot.hpp"

#include <time.h>

#include <ctime>

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <vector>

#include "core/duration.hpp"
#include "core/error.hpp"
#include "core/files.hpp"
#include "core/time.hpp"
#include "log.hpp"
#include "store/snapshot.hpp"

namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::system_clock;

namespace trellis::backend {
namespace {

constexpr std::string_view kPrefix = "snapshot-", kSuffix = ".db";

// The first endpoint whose member has a leader: a snapshot of a member cut off from the cluster could be stale.
std::pair<Url, store::Status> member_with_leader(const store::ClientOptions& options) {
    std::string why;
    for (const auto& endpoint : options.endpoints) {
        store::ClientOptions one = options;
        one.endpoints = {endpoint};
        try {
            store::EtcdClient client(one);
            const store::Status status = client.status();
            if (status.leader != 0 && status.errors.empty()) return {client.endpoints().front(), status};
            why += (why.empty() ? "" : "; ") + endpoint + ": no leader";
        } catch (const Error& e) {
            why += (why.empty() ? "" : "; ") + std::string(e.what());
        }
    }
    throw Error(Code::StoreUnavailable, "no etcd member with a leader to take a snapshot from: " + why);
}

}  // namespace

namespace {

// An unlinked file only this process can reach (0600), for a snapshot on its way to a client.
int scratch_file(const fs::path& dir) {
    std::string name = (dir / "trellis-snapshot-XXXXXX").string();
    const int fd = ::mkstemp(name.data());
    if (fd < 0)
        throw Error(Code::FileWriteFailed,
                    dir.string() + ": cannot create a temporary file for the snapshot: " + std::strerror(errno));
    ::unlink(name.c_str());
    return fd;
}

void write_all(int fd, std::string_view piece) {
    while (!piece.empty()) {
        const ssize_t n = ::write(fd, piece.data(), piece.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0)
            throw Error(Code::FileWriteFailed,
                        std::string("cannot write the snapshot's temporary file: ") + std::strerror(errno));
        piece.remove_prefix(static_cast<std::size_t>(n));
    }
}

}  // namespace

HttpResponse serve_snapshot(const store::ClientOptions& options, const fs::path& scratch_dir) {
    const auto [endpoint, status] = member_with_leader(options);
    store::EtcdClient client(options);
    HttpResponse res;
    res.content_type = "application/octet-stream";
    res.headers = {{"X-Trellis-Snapshot-Member", store::hex_id(status.header.member_id)},
                   {"X-Trellis-Snapshot-Revision", std::to_string(status.header.revision)}};
    // Whole, before the first byte is sent: the API's loop sends it from the file, and a stream that broke
    // is an error the client reads instead of a cut answer.
    const int fd = scratch_file(scratch_dir);
    try {
        const std::string broke =
            store::stream_snapshot(client, endpoint, [&](std::string_view piece) { write_all(fd, piece); });
        if (!broke.empty()) log(Level::Debug, "snapshot stream from " + endpoint.text() + ": " + broke);
        res.file_size = ::lseek(fd, 0, SEEK_CUR);
    } catch (...) {
        ::close(fd);
        throw;
    }
    res.file_fd = fd;
    log(Level::Info, "sending a snapshot of " + std::to_string(res.file_size) + " bytes from " + endpoint.text() +
                         " (the client checks its SHA-256)");
    return res;
}

SnapshotSchedule snapshot_schedule(const cluster::BackendConfig& config) {
    SnapshotSchedule s;
    const std::string interval = config.get(cluster::Key::SnapshotInterval);
    if (!interval.empty()) {
        std::string why;
        const auto d = parse_go_duration(interval, &why);
        if (!d || *d < std::chrono::seconds(1))
            throw Error(Code::ConfigInvalid,
                        "snapshot-interval: \"" + interval + "\" " + (d ? "is under 1s" : why) + " (e.g. 1h, 30m)");
        s.interval = std::chrono::duration_cast<std::chrono::seconds>(*d);
    }
    const std::string dir = config.get(cluster::Key::SnapshotDir);
    s.dir = dir.empty() ? fs::path(config.get(cluster::Key::StateDir)) / "snapshots" : fs::path(dir);
    s.retain = config.get_int(cluster::Key::SnapshotRetain);
    if (s.interval.count() > 0 && s.retain < 1)
        throw Error(Code::ConfigInvalid, "snapshot-retain: must be at least 1 when snapshot-interval is set");
    return s;
}

std::string snapshot_file_name(Clock::time_point when) {
    return std::string(kPrefix) + utc_stamp(when) + std::string(kSuffix);
}

SnapshotScheduler::SnapshotScheduler(SnapshotSchedule schedule, store::ClientOptions store)
    : schedule_(std::move(schedule)), store_(std::move(store)) {}

SnapshotScheduler::~SnapshotScheduler() { stop(); }

void SnapshotScheduler::start() {
    std::error_code ec;
    fs::create_directories(schedule_.dir, ec);
    if (ec)
        throw Error(Code::FileWriteFailed,
                    "snapshot-dir " + schedule_.dir.string() + ": cannot create it: " + ec.message());
    fs::permissions(schedule_.dir, fs::perms::owner_all, ec);  // snapshots hold every key
    log(Level::Info, "scheduled snapshots every " + format_go_duration(schedule_.interval) + " into " +
                         schedule_.dir.string() + " (taken by the leader; keeping " + std::to_string(schedule_.retain) +
                         ")");
    thread_ = std::thread([this] { run(); });
}

void SnapshotScheduler::stop() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
}

nlohmann::ordered_json SnapshotScheduler::health() const {
    std::lock_guard lock(mutex_);
    return {{"Interval", format_go_duration(schedule_.interval)},
            {"Dir", schedule_.dir.string()},
            {"Retain", schedule_.retain},
            {"LastSuccess", nlohmann::ordered_json::parse(last_.dump())},
            {"LastError", last_error_}};
}

void SnapshotScheduler::run() {
    // Look often (the leader may change, another node may have taken one), act once per interval.
    const auto step = std::min<std::chrono::seconds>(schedule_.interval, std::chrono::seconds(5));
    for (;;) {
        {
            std::unique_lock lock(mutex_);
            if (wake_.wait_for(lock, step, [this] { return stopping_; })) return;
        }
        try {
            tick();
        } catch (const std::exception& e) {
            log(Level::Warn, std::string("scheduled snapshot failed: ") + e.what());
            std::lock_guard lock(mutex_);
            last_error_ = e.what();
        }
    }
}

void SnapshotScheduler::tick() {
    store::EtcdClient client(store_);
    const store::Status status = client.status();
    json last;
    if (const auto text = client.get(kLastSnapshotKey, /*serializable=*/true))
        last = json::parse(*text, nullptr, false);
    if (last.is_discarded()) last = nullptr;
    {
        std::lock_guard lock(mutex_);
        last_ = last;
    }
    // One member at a time: only the leader, and only when the cluster's last snapshot is due.
    if (status.leader == 0 || status.leader != status.header.member_id) return;
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(Clock::now().time_since_epoch());
    if (last.is_object() && now.count() - last.value("Unix", 0LL) < schedule_.interval.count()) return;
    take(client, status.header.member_id);
}

void SnapshotScheduler::take(store::EtcdClient& client, std::uint64_t member_id) {
    const auto now = Clock::now();
    const fs::path file = schedule_.dir / snapshot_file_name(now);
    AtomicWriter out(file, kSecretMode);
    const std::string broke =
        store::stream_snapshot(client, client.endpoints().front(), [&](std::string_view piece) { out.write(piece); });
    store::SnapshotIntegrity integrity;
    try {
        integrity = store::check_snapshot(out.temp_path());
    } catch (const Error& e) {
        throw Error(e.code(), file.string() + ": not written: " + e.what() +
                                  (broke.empty() ? "" : " (the stream broke: " + broke + ")"));
    }
    out.commit(/*overwrite=*/false);
    const json record{{"Time", utc_text(now)},
                      {"Unix", std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count()},
                      {"MemberIDHex", store::hex_id(member_id)},
                      {"File", file.string()},
                      {"Size", integrity.file_size},
                      {"SHA256", integrity.sha256}};
    client.put(kLastSnapshotKey, record.dump());
    {
        std::lock_guard lock(mutex_);
        last_ = record;
        last_error_.clear();
    }
    log(Level::Info, "scheduled snapshot " + file.string() + " written (" + std::to_string(integrity.file_size) +
                         " bytes, sha256 " + integrity.sha256 + ")");
    prune();
}

void SnapshotScheduler::prune() const {
    std::vector<fs::path> ours;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(schedule_.dir, ec)) {
        const std::string name = e.path().filename().string();
        if (name.starts_with(kPrefix) && name.ends_with(kSuffix)) ours.push_back(e.path());
    }
    std::sort(ours.begin(), ours.end());  // names sort by time
    const auto keep = static_cast<std::size_t>(schedule_.retain);
    for (std::size_t i = 0; i + keep < ours.size(); ++i) {
        fs::remove(ours[i], ec);
        if (!ec) log(Level::Info, "removed old snapshot " + ours[i].string() + " (snapshot-retain)");
    }
}

}  // namespace trellis::backend
