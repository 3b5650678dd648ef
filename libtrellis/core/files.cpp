#include "core/files.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <utility>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/parallel.hpp"

namespace fs = std::filesystem;

namespace trellis {
namespace {

std::string errno_text() { return std::strerror(errno); }

// Unique sibling temp name, so that rename() stays within one filesystem.
fs::path temp_name(const fs::path& path) {
    static thread_local std::mt19937_64 rng{std::random_device{}()};
    std::ostringstream name;
    name << '.' << path.filename().string() << ".tmp-" << std::hex << rng();
    return path.parent_path() / name.str();
}

// Creates a new temp sibling of `path` with exactly `mode` (whatever the umask) and `owner`; its fd.
// chown before chmod: chown may clear mode bits, never the other way round.
int open_temp(const fs::path& path, const fs::path& tmp, mode_t mode, FileOwner owner = {}) {
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0) throw Error(Code::FileWriteFailed, located(path.string(), "cannot create: " + errno_text()));
    auto fail = [&](const std::string& what) {
        const std::string why = errno_text();
        ::close(fd);
        ::unlink(tmp.c_str());
        throw Error(Code::FileWriteFailed, located(path.string(), what + why));
    };
    if (owner.set() && ::fchown(fd, owner.uid, owner.gid) != 0)
        fail("cannot give it to " + std::to_string(static_cast<long>(owner.uid)) + ":" +
             std::to_string(static_cast<long>(owner.gid)) + " (changing a file's owner needs root): ");
    if (::fchmod(fd, mode) != 0) fail("cannot set mode: ");
    return fd;
}

// Writes all of `data`; false with errno set on failure.
bool write_all(int fd, std::string_view data) {
    const char* p = data.data();
    size_t left = data.size();
    while (left > 0) {
        const ssize_t n = ::write(fd, p, left);
        if (n < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        p += n;
        left -= static_cast<size_t>(n);
    }
    return true;
}

// Creates `path` (which must not exist) holding `data` with exactly `mode`, fsynced if asked.
// Errors name `shown`, the file the user knows. Removes what it made on failure.
void write_new(const fs::path& path, const fs::path& shown, std::string_view data, mode_t mode, bool sync,
               FileOwner owner = {}) {
    const int fd = open_temp(shown, path, mode, owner);
    auto fail = [&](const std::string& why) {
        ::close(fd);
        ::unlink(path.c_str());
        throw Error(Code::FileWriteFailed, located(shown.string(), why));
    };
    if (!write_all(fd, data)) fail("write failed: " + errno_text());
    if (sync && ::fsync(fd) != 0) fail("fsync failed: " + errno_text());
    if (::close(fd) != 0) {
        const std::string why = errno_text();
        ::unlink(path.c_str());
        throw Error(Code::FileWriteFailed, located(shown.string(), "close failed: " + why));
    }
}

// Writes and fsyncs a new temp file beside `path`; returns its name.
fs::path write_temp(const fs::path& path, std::string_view data, mode_t mode) {
    const fs::path tmp = temp_name(path);
    write_new(tmp, path, data, mode, /*sync=*/true);
    return tmp;
}

void sync_dir(const fs::path& dir) {
    const int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return;  // best effort: the data itself is already durable
    ::fsync(fd);
    ::close(fd);
}

bool same_content(const fs::path& path, std::string_view data) {
    std::error_code ec;
    if (fs::file_size(path, ec) != data.size() || ec) return false;
    std::ifstream in(path, std::ios::binary);
    std::string have((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return have == data;
}

// --- crash-safe commits (FileSet) ---------------------------------------------------------------

constexpr std::string_view kStaging = ".trellis-commit";
constexpr std::string_view kManifest = "MANIFEST";

// Excludes a second commit (or recovery) into the same folder for as long as it lives.
class DirLock {
  public:
    explicit DirLock(const fs::path& dir) : fd_(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) {
        if (fd_ < 0) throw Error(Code::FileWriteFailed, located(dir.string(), "cannot open folder: " + errno_text()));
        if (::flock(fd_, LOCK_EX) != 0) {
            const std::string why = errno_text();
            ::close(fd_);
            throw Error(Code::FileWriteFailed, located(dir.string(), "cannot lock folder: " + why));
        }
    }
    ~DirLock() { ::close(fd_); }
    DirLock(const DirLock&) = delete;
    DirLock& operator=(const DirLock&) = delete;

  private:
    int fd_;
};

// Creates `dir` (and parents) if missing; true when it did.
bool ensure_dir(const fs::path& dir) {
    std::error_code ec;
    if (fs::is_directory(dir, ec)) return false;
    fs::create_directories(dir, ec);
    if (ec) throw Error(Code::FileWriteFailed, located(dir.string(), "cannot create folder: " + ec.message()));
    return true;
}

void sync_filesystem(const fs::path& any_path, const fs::path& for_message) {
    const int fd = ::open(any_path.c_str(), O_RDONLY | O_CLOEXEC);
    const bool ok = fd >= 0 && ::syncfs(fd) == 0;
    const std::string why = errno_text();
    if (fd >= 0) ::close(fd);
    if (!ok) throw Error(Code::FileWriteFailed, located(for_message.string(), "cannot sync to disk: " + why));
}

struct StagedFile {
    std::string staged;   // name inside the staging folder
    std::string path;     // final place, relative to the root
    bool folder = false;  // a whole new folder, moved into place with one rename
};

// `path` made absolute against a working folder read once (fs::absolute asks the kernel every time).
fs::path absolute_from(const fs::path& cwd, const fs::path& path) {
    return (path.is_absolute() ? path : cwd / path).lexically_normal();
}

// Every target must be a file (or absent) whose folders exist or can be made, and, unless `overwrite`,
// absent or already holding the same bytes: checked before the commit point, because a failure after it
// leaves part of the new set in place until the next run completes it. One stat per file.
void check_targets(const std::vector<FileSet::Pending>& files, bool overwrite) {
    std::set<fs::path> fine;  // folders already known to be folders (or creatable)
    for (const auto& f : files) {
        std::error_code ec;
        const auto target = fs::status(f.path, ec);
        if (fs::is_directory(target))
            throw Error(Code::FileWriteFailed,
                        located(f.path.string(), "is a directory; the output needs a file of this name there"));
        if (!overwrite && fs::exists(target) && !same_content(f.path, f.data))
            throw Error(Code::FileExists,
                        located(f.path.string(), "already exists; remove it or pass the flag that allows overwriting"));
        for (fs::path dir = f.path.parent_path(); !dir.empty() && !fine.contains(dir); dir = dir.parent_path()) {
            const auto status = fs::status(dir, ec);
            if (fs::exists(status) && !fs::is_directory(status))
                throw Error(Code::FileWriteFailed,
                            located(dir.string(), "is not a folder, but " + f.path.string() + " must go in it"));
            fine.insert(dir);
            if (fs::exists(status) || dir == dir.parent_path()) break;
        }
    }
}

// Where each file is staged. A file under a folder that does not exist yet is written into a staged copy
// of the topmost missing folder, which then moves into place whole: a thousand new agent folders under a
// new agents/ cost one rename instead of three thousand, and no folder ever appears half-filled.
struct StagingPlan {
    std::vector<StagedFile> entries;  // manifest order
    std::vector<fs::path> places;     // per file: where it is written, relative to the staging folder
};

class Stager {
  public:
    explicit Stager(fs::path root) : root_(std::move(root)) {}

    void add(const fs::path& target) {
        const fs::path top = topmost_missing(target.parent_path());
        if (top.empty()) {
            plan_.entries.push_back({slot(), target.lexically_relative(root_).string()});
            plan_.places.emplace_back(plan_.entries.back().staged);
            return;
        }
        auto [it, added] = folders_.try_emplace(top, slot());
        if (added) plan_.entries.push_back({it->second, top.lexically_relative(root_).string(), true});
        plan_.places.push_back(fs::path(it->second) / target.lexically_relative(top));
    }
    StagingPlan take() { return std::move(plan_); }

  private:
    std::string slot() const {
        char name[32];
        std::snprintf(name, sizeof name, "%06zu", plan_.entries.size());
        return name;
    }
    bool exists(const fs::path& dir) {
        auto [it, added] = exists_.try_emplace(dir, true);
        std::error_code ec;
        if (added) it->second = dir == root_ || fs::exists(dir, ec);
        return it->second;
    }
    // The highest folder on the way from root_ to `dir` that does not exist; empty when `dir` exists.
    fs::path topmost_missing(fs::path dir) {
        fs::path top;
        for (; !exists(dir) && dir != dir.parent_path(); dir = dir.parent_path()) top = dir;
        return top;
    }

    fs::path root_;
    StagingPlan plan_;
    std::map<fs::path, std::string> folders_;  // missing folder -> its staged copy
    std::map<fs::path, bool> exists_;
};

StagingPlan plan_staging(const fs::path& root, const std::vector<FileSet::Pending>& files) {
    Stager stager(root);
    const fs::path cwd = fs::current_path();
    for (const auto& f : files) stager.add(absolute_from(cwd, f.path));
    return stager.take();
}

// Writes every file where `plan` stages it under `dir`. Each staged folder is made and filled by one job,
// the jobs spread over `threads` (0: one per core) when there are enough files to pay for them: on ext4
// creating a file is the kernel's CPU work (about 0.3 ms each here), not a wait for the disk. Nothing is
// synced: the caller syncs the filesystem once, or a thousand agent certs would wait on the disk.
void write_staged(const fs::path& dir, const StagingPlan& plan, const std::vector<FileSet::Pending>& files,
                  unsigned threads) {
    std::map<fs::path, std::vector<size_t>> by_folder;
    for (size_t i = 0; i < files.size(); ++i) by_folder[plan.places[i].parent_path()].push_back(i);
    const std::vector<std::pair<fs::path, std::vector<size_t>>> jobs(by_folder.begin(), by_folder.end());
    constexpr size_t kFilesForThreads = 128;
    parallel_for(jobs.size(), files.size() < kFilesForThreads ? 1 : threads, [&](size_t j) {
        const auto& [sub, members] = jobs[j];
        std::error_code ec;
        if (!sub.empty()) fs::create_directories(dir / sub, ec);  // a sibling job may make a parent too: fine
        if (ec)
            throw Error(Code::FileWriteFailed,
                        located(files[members.front()].path.string(), "cannot create its folder: " + ec.message()));
        for (const size_t i : members)
            write_new(dir / plan.places[i], files[i].path, files[i].data, files[i].mode, /*sync=*/false,
                      files[i].owner);
    });
}

// Writes every file into ROOT/.trellis-commit/ and then the manifest naming where each goes: once the
// manifest has its final name, the set is committed and any later run completes it.
std::vector<StagedFile> stage(const fs::path& root, const std::vector<FileSet::Pending>& files, unsigned threads) {
    const fs::path dir = root / kStaging;
    std::error_code ec;
    fs::remove_all(dir, ec);
    if (!fs::create_directory(dir, ec) || ec)
        throw Error(Code::FileWriteFailed, located(dir.string(), "cannot create staging folder: " + ec.message()));
    const StagingPlan plan = plan_staging(root, files);
    write_staged(dir, plan, files, threads);
    nlohmann::json manifest = nlohmann::json::array();
    for (const auto& e : plan.entries) {
        manifest.push_back({{"staged", e.staged}, {"path", e.path}});
        if (e.folder) manifest.back()["folder"] = true;
    }
    write_new(dir / "MANIFEST.tmp", dir / kManifest, manifest.dump(), kPublicMode, /*sync=*/false);
    sync_filesystem(dir, root);
    if (::rename((dir / "MANIFEST.tmp").c_str(), (dir / kManifest).c_str()) != 0)
        throw Error(Code::FileWriteFailed, located((dir / kManifest).string(), "cannot commit: " + errno_text()));
    sync_dir(dir);
    return plan.entries;
}

// Moves staged files and folders into place (skipping those an earlier attempt already moved), makes
// that durable, then removes the staging folder. A failure leaves the manifest for the next run.
void roll_forward(const fs::path& root, const std::vector<StagedFile>& staged) {
    const fs::path dir = root / kStaging;
    std::set<fs::path> folders;  // known to exist
    for (const auto& f : staged) {
        const fs::path from = dir / f.staged, to = root / f.path;
        std::error_code ec;
        if (!fs::exists(from, ec)) continue;
        if (folders.insert(to.parent_path()).second) fs::create_directories(to.parent_path(), ec);
        if (::rename(from.c_str(), to.c_str()) != 0)
            throw Error(Code::FileWriteFailed,
                        located(to.string(), "cannot move into place: " + errno_text() +
                                                 "; the next run completes the write once this is fixed"));
    }
    sync_filesystem(dir, root);
    std::error_code ec;
    fs::remove_all(dir, ec);
    sync_dir(root);
}

std::vector<StagedFile> read_manifest(const fs::path& file) {
    std::vector<StagedFile> out;
    try {
        for (const auto& e : nlohmann::json::parse(read_file(file)))
            out.push_back(
                {e.at("staged").get<std::string>(), e.at("path").get<std::string>(), e.value("folder", false)});
    } catch (const nlohmann::json::exception& e) {
        throw Error(Code::FileReadFailed, located(file.string(), std::string("damaged commit manifest: ") + e.what() +
                                                                     "; move the folder away and provision again"));
    }
    for (const auto& f : out)
        if (f.staged.find('/') != std::string::npos || fs::path(f.path).is_absolute() || f.path.starts_with(".."))
            throw Error(Code::FileReadFailed, located(file.string(), "commit manifest names a path outside " +
                                                                         file.parent_path().parent_path().string()));
    return out;
}

// Temp files of write_temp (".NAME.tmp-HEX") that a killed run left behind.
bool is_stray_temp(const fs::path& p) {
    const std::string n = p.filename().string();
    const auto at = n.rfind(".tmp-");
    return n.size() > 1 && n[0] == '.' && at != std::string::npos && at > 1 &&
           n.find_first_not_of("0123456789abcdef", at + 5) == std::string::npos && at + 5 < n.size();
}

size_t remove_stray_temps(const fs::path& root) {
    size_t removed = 0;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(root, fs::directory_options::skip_permission_denied, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (it->path().filename() == kStaging) {
            it.disable_recursion_pending();
            continue;
        }
        std::error_code type_ec;
        if (it->is_regular_file(type_ec) && is_stray_temp(it->path()) && fs::remove(it->path(), type_ec)) ++removed;
    }
    return removed;
}

std::vector<std::string> recover_locked(const fs::path& root) {
    std::vector<std::string> notes;
    const fs::path dir = root / kStaging;
    std::error_code ec;
    if (fs::exists(dir / kManifest, ec)) {
        const auto staged = read_manifest(dir / kManifest);
        roll_forward(root, staged);
        const auto folders = std::count_if(staged.begin(), staged.end(), [](const auto& f) { return f.folder; });
        notes.push_back("completed an interrupted write of " + std::to_string(staged.size() - folders) + " files " +
                        (folders > 0 ? "and " + std::to_string(folders) + " new folders " : "") + "in " +
                        root.string());
    } else if (fs::exists(dir, ec)) {
        const auto n = std::distance(fs::directory_iterator(dir, ec), fs::directory_iterator());
        fs::remove_all(dir, ec);
        notes.push_back("discarded " + std::to_string(n) + " staged files of a write to " + root.string() +
                        " that was interrupted before it committed; the files it would have replaced are intact");
    }
    if (const size_t n = remove_stray_temps(root))
        notes.push_back("removed " + std::to_string(n) + " temp files left by an interrupted write under " +
                        root.string());
    return notes;
}

[[noreturn]] void too_large(std::string_view where) {
    throw Error(Code::FileTooLarge, located(where, "is larger than " + std::to_string(kMaxInputBytes >> 20) +
                                                       " MiB, more than any input Trellis reads; check the path"));
}

// Reads `fd` to its end, refusing more than kMaxInputBytes.
std::string read_bounded(int fd, std::string_view where) {
    std::string out;
    char buf[65536];
    for (;;) {
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n == 0) return out;
        if (n < 0) {
            if (errno == EINTR) continue;
            throw Error(Code::FileReadFailed, located(where, "cannot read: " + errno_text()));
        }
        if (out.size() + static_cast<size_t>(n) > kMaxInputBytes) too_large(where);
        out.append(buf, static_cast<size_t>(n));
    }
}

}  // namespace

std::string read_file(const fs::path& path) {
    // O_NONBLOCK: opening a FIFO must not wait for a writer; only regular files are read.
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) throw Error(Code::FileReadFailed, located(path.string(), "cannot read: " + errno_text()));
    struct Close {
        int fd;
        ~Close() { ::close(fd); }
    } closer{fd};
    struct stat st {};
    if (::fstat(fd, &st) != 0)
        throw Error(Code::FileReadFailed, located(path.string(), "cannot read: " + errno_text()));
    if (S_ISDIR(st.st_mode))
        throw Error(Code::FileReadFailed, located(path.string(), "is a directory, expected a file"));
    if (!S_ISREG(st.st_mode))
        throw Error(Code::FileReadFailed,
                    located(path.string(), "is not a regular file (a FIFO, device or socket); give a file"));
    if (static_cast<unsigned long long>(st.st_size) > kMaxInputBytes) too_large(path.string());
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    return read_bounded(fd, path.string());
}

std::string read_input(std::string_view arg) {
    if (arg == "-") return read_bounded(STDIN_FILENO, "<stdin>");
    return read_file(fs::path(arg));
}

std::string read_source(std::string_view spec) {
    if (spec.starts_with("env:")) {
        const std::string name(spec.substr(4));
        const char* value = std::getenv(name.c_str());
        if (value == nullptr)
            throw Error(Code::FileReadFailed,
                        "environment variable " + name + " is not set (named by '" + std::string(spec) + "')");
        return value;
    }
    if (spec.starts_with("file:")) return read_file(fs::path(spec.substr(5)));
    return read_file(fs::path(spec));
}

void write_file_atomic(const fs::path& path, std::string_view data, mode_t mode) {
    const fs::path tmp = write_temp(path, data, mode);
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        const std::string why = errno_text();
        ::unlink(tmp.c_str());
        throw Error(Code::FileWriteFailed, located(path.string(), "cannot replace: " + why));
    }
    sync_dir(path.parent_path());
}

AtomicWriter::AtomicWriter(fs::path path, mode_t mode)
    : path_(std::move(path)), tmp_(temp_name(path_)), fd_(open_temp(path_, tmp_, mode)) {}

AtomicWriter::~AtomicWriter() {
    if (fd_ < 0) return;
    ::close(fd_);
    ::unlink(tmp_.c_str());
}

void AtomicWriter::write(std::string_view data) {
    if (fd_ < 0) throw Error(Code::Internal, located(path_.string(), "write after commit"));
    if (!write_all(fd_, data))
        throw Error(Code::FileWriteFailed, located(path_.string(), "write failed: " + errno_text()));
}

void AtomicWriter::truncate() {
    if (fd_ >= 0 && (::ftruncate(fd_, 0) != 0 || ::lseek(fd_, 0, SEEK_SET) != 0))
        throw Error(Code::FileWriteFailed, located(path_.string(), "cannot truncate: " + errno_text()));
}

void AtomicWriter::commit(bool overwrite) {
    if (fd_ < 0) throw Error(Code::Internal, located(path_.string(), "commit twice"));
    if (::fsync(fd_) != 0) throw Error(Code::FileWriteFailed, located(path_.string(), "fsync failed: " + errno_text()));
    const int fd = std::exchange(fd_, -1);
    // link() never replaces an existing file, so "do not overwrite" holds even against a race.
    const bool placed = ::close(fd) == 0 && (overwrite ? ::rename(tmp_.c_str(), path_.c_str()) == 0
                                                       : ::link(tmp_.c_str(), path_.c_str()) == 0);
    const int err = errno;
    ::unlink(tmp_.c_str());
    if (!placed && err == EEXIST)
        throw Error(Code::FileExists, located(path_.string(), "already exists; remove it or pass --overwrite"));
    if (!placed)
        throw Error(Code::FileWriteFailed, located(path_.string(), "cannot write: " + std::string(std::strerror(err))));
    sync_dir(path_.parent_path());
}

void FileSet::add(fs::path path, std::string data, mode_t mode, FileOwner owner) {
    files_.push_back({std::move(path), std::move(data), mode, owner});
}

const std::vector<fs::path> FileSet::paths() const {
    std::vector<fs::path> out;
    for (const auto& f : files_) out.push_back(f.path);
    return out;
}

std::filesystem::path FileSet::root() const {
    if (!root_.empty()) return fs::absolute(root_).lexically_normal();
    // The deepest folder holding every file: where the staging folder goes (same filesystem).
    fs::path common;
    for (const auto& f : files_) {
        const fs::path dir = fs::absolute(f.path).lexically_normal().parent_path();
        if (common.empty()) {
            common = dir;
            continue;
        }
        fs::path shared;
        for (auto a = common.begin(), b = dir.begin(); a != common.end() && b != dir.end() && *a == *b; ++a, ++b)
            shared /= *a;
        common = shared;
    }
    return common;
}

void FileSet::commit(bool overwrite) { commit(overwrite, 0); }

void FileSet::commit(bool overwrite, unsigned threads) {
    if (files_.empty()) return;
    const fs::path top = root();
    const bool made_top = ensure_dir(top);
    std::vector<StagedFile> staged;
    {
        const DirLock lock(top);
        recovered_ = recover_locked(top);
        try {
            check_targets(files_, overwrite);
            staged = stage(top, files_, threads);
        } catch (...) {
            std::error_code ec;
            fs::remove_all(top / kStaging, ec);
            if (made_top) fs::remove(top, ec);  // only if still empty: never leave a folder we made for nothing
            throw;
        }
        roll_forward(top, staged);
    }
    files_.clear();
}

std::vector<std::string> recover_interrupted_commit(const fs::path& root) {
    std::error_code ec;
    if (!fs::is_directory(root, ec)) return {};
    const DirLock lock(fs::absolute(root).lexically_normal());
    return recover_locked(fs::absolute(root).lexically_normal());
}

}  // namespace trellis
