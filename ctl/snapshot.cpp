#include "snapshot.hpp"

#include <nlohmann/json.hpp>

#include "api/wire.hpp"
#include "core/error.hpp"
#include "core/files.hpp"
#include "store/etcd_process.hpp"
#include "store/snapshot.hpp"
#include "table.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace trellis::ctl {

int snapshot_save(const ApiClient& client, const fs::path& file, bool overwrite, Format format, std::ostream& out) {
    std::error_code ec;
    if (!overwrite && fs::exists(file, ec))
        throw Error(Code::FileExists, located(file.string(), "already exists; pass --overwrite to replace it"));
    AtomicWriter writer(file, kSecretMode);  // nothing appears at `file` unless the snapshot checks out
    const BodySink sink{[&] { writer.truncate(); }, [&](std::string_view piece) { writer.write(piece); }};
    // A backend whose etcd has no leader answers 503: another backend may do better.
    const Response response = client.send(
        Method::Get, std::string(api::kSnapshotPath), [](const Response& r) { return r.status < 500; }, &sink);
    if (response.status != 200) throw api_error(response);
    store::SnapshotIntegrity integrity;
    try {
        integrity = store::check_snapshot(writer.temp_path());
    } catch (const Error& e) {
        throw Error(e.code(), response.url + ": the snapshot did not arrive whole, so " + file.string() +
                                  " was not written: " + e.what());
    }
    writer.commit(overwrite);
    if (format == Format::Table) {
        out << "Snapshot saved at " << file.string() << " (" << integrity.file_size << " bytes, sha256 "
            << integrity.sha256 << ", from " << response.url << ")\n";
    } else {
        out << render_document({{"file", file.string()},
                                {"size", integrity.file_size},
                                {"sha256", integrity.sha256},
                                {"url", response.url}},
                               format);
    }
    return 0;
}

int snapshot_status(const fs::path& file, const std::string& etcdctl, Format format, std::ostream& out) {
    const store::SnapshotStatus s =
        store::snapshot_status(store::find_etcdctl(etcdctl, store::self_executable()), file);
    char hash[16];
    std::snprintf(hash, sizeof hash, "%x", s.hash);
    if (format == Format::Table) {
        out << render_table({"HASH", "REVISION", "TOTAL KEYS", "TOTAL SIZE", "SHA-256"},
                            {{hash, std::to_string(s.revision), std::to_string(s.total_keys),
                              std::to_string(s.total_size), s.integrity.sha256 + " (ok)"}});
    } else {
        // etcdctl's field names (`etcdctl snapshot status -w json`), then ours.
        out << render_document({{"hash", s.hash},
                                {"revision", s.revision},
                                {"totalKey", s.total_keys},
                                {"totalSize", s.total_size},
                                {"fileSize", s.integrity.file_size},
                                {"sha256", s.integrity.sha256}},
                               format);
    }
    return 0;
}

}  // namespace trellis::ctl
