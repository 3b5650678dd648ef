// Reading inputs and writing outputs safely: atomic replace (temp + fsync +
// rename), explicit modes whatever the umask, and all-or-nothing file sets.
// Part of the public API (include/trellis/files.hpp): std and POSIX headers only.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace trellis {

inline constexpr mode_t kSecretMode = 0600;       // private keys, client configs
inline constexpr mode_t kPublicMode = 0644;       // certificates, CSRs, configs
inline constexpr mode_t kGroupSecretMode = 0640;  // a key a group may read (root:GROUP, the spec's owner mode: group)

// Who owns a written file; -1 (either) keeps what creating it gives (the process's own).
struct FileOwner {
    uid_t uid = static_cast<uid_t>(-1);
    gid_t gid = static_cast<gid_t>(-1);
    bool set() const { return uid != static_cast<uid_t>(-1) || gid != static_cast<gid_t>(-1); }
    bool operator==(const FileOwner&) const = default;
};

// The most any input may hold: far above any certificate, key, spec or config, far below what
// would exhaust memory (a path to /dev/zero or a huge log must fail, not grow).
inline constexpr size_t kMaxInputBytes = size_t{32} << 20;

// Whole file as bytes, in one bounded read of a regular file: a missing or unreadable file, a
// directory, FIFO or device is Code::FileReadFailed naming the path (a FIFO never blocks);
// more than kMaxInputBytes is Code::FileTooLarge.
std::string read_file(const std::filesystem::path& path);

// "-" reads standard input (bounded the same way; a pipe is fine), anything else is read_file.
std::string read_input(std::string_view arg);

// cfssl's source syntax: "env:NAME" reads an environment variable,
// "file:PATH" or a bare PATH reads a file.
std::string read_source(std::string_view spec);

// Writes `data` to `path` atomically with exactly `mode`; on any failure the
// old file (if any) is untouched and no temp file is left behind.
void write_file_atomic(const std::filesystem::path& path, std::string_view data, mode_t mode);

// A file written in pieces (a download, a snapshot) that appears at `path` only on commit(): a sibling
// temp file with exactly `mode`, fsynced and renamed. Destroyed without commit() (a failure, an
// exception), the temp file is removed, so a failure never leaves a partial file behind.
class AtomicWriter {
  public:
    AtomicWriter(std::filesystem::path path, mode_t mode);
    ~AtomicWriter();
    AtomicWriter(const AtomicWriter&) = delete;
    AtomicWriter& operator=(const AtomicWriter&) = delete;
    void write(std::string_view data);
    // Everything written so far (for a check before commit), readable while the writer lives.
    const std::filesystem::path& temp_path() const { return tmp_; }
    // Fails with Code::FileExists when `path` exists, unless `overwrite` is set.
    void commit(bool overwrite);
    // Drops what was written (restart a download from another source).
    void truncate();

  private:
    std::filesystem::path path_;
    std::filesystem::path tmp_;
    int fd_ = -1;
};

// A group of files that appear together or not at all, even across a kill -9 or a power cut.
// commit() stages every file in ROOT/.trellis-commit/ (one flat folder: no directories are made in
// ROOT until the set is safe), syncs, then writes a manifest: the commit point. Only then are the
// files moved into place. A later commit (or recover_interrupted_commit) that finds the manifest
// finishes the move; one that finds staging without a manifest throws it away, and the previous
// files were never touched. ROOT is the constructor's, or the deepest folder common to every file.
class FileSet {
  public:
    FileSet() = default;
    explicit FileSet(std::filesystem::path root) : root_(std::move(root)) {}
    // With `owner` set, the file is chowned while staged, so it appears in place already owned (needs root,
    // or CAP_CHOWN, unless it is the process's own user and one of its groups).
    void add(std::filesystem::path path, std::string data, mode_t mode, FileOwner owner = {});
    // Fails with Code::FileExists naming the first file that already exists
    // with different content, unless `overwrite` is set (safe by default, like the CLIs).
    void commit(bool overwrite = false);
    // The same, staging a set of 128 files or more on up to `threads` threads (0: one per core, as above).
    void commit(bool overwrite, unsigned threads);
    bool empty() const { return files_.empty(); }
    const std::vector<std::filesystem::path> paths() const;
    // What commit() found and repaired of an earlier, interrupted run (one line each).
    const std::vector<std::string>& recovered() const { return recovered_; }

    struct Pending {
        std::filesystem::path path;
        std::string data;
        mode_t mode;
        FileOwner owner;
    };

  private:
    std::filesystem::path root() const;
    std::vector<Pending> files_;
    std::filesystem::path root_;
    std::vector<std::string> recovered_;
};

// Finishes or discards a FileSet commit that was interrupted under `root`, and removes temp files
// (".NAME.tmp-*") that an interrupted single-file write left anywhere below it. Returns one line per
// thing it did ("completed an interrupted write of 2004 files"); empty when there was nothing.
// Holds the same lock as commit(), so it never races a running commit.
std::vector<std::string> recover_interrupted_commit(const std::filesystem::path& root);

}  // namespace trellis
