// Reading inputs and writing outputs safely: atomic replace (temp + fsync +
// rename), explicit modes whatever the umask, and all-or-nothing file sets.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace trellis {

inline constexpr mode_t kSecretMode = 0600;  // private keys, client configs
inline constexpr mode_t kPublicMode = 0644;  // certificates, CSRs, configs

// Whole file as bytes; a missing or unreadable file is Code::FileReadFailed naming the path.
std::string read_file(const std::filesystem::path& path);

// "-" reads standard input, anything else is a path.
std::string read_input(std::string_view arg);

// cfssl's source syntax: "env:NAME" reads an environment variable,
// "file:PATH" or a bare PATH reads a file.
std::string read_source(std::string_view spec);

// Writes `data` to `path` atomically with exactly `mode`; on any failure the
// old file (if any) is untouched and no temp file is left behind.
void write_file_atomic(const std::filesystem::path& path, std::string_view data, mode_t mode);

// A group of files that appear together or not at all (as far as POSIX allows):
// every file is written to a temp name and synced first, then all are renamed.
class FileSet {
  public:
    void add(std::filesystem::path path, std::string data, mode_t mode);
    // Fails with Code::FileExists naming the first file that already exists
    // with different content, unless `overwrite` is set.
    void commit(bool overwrite = true);
    bool empty() const { return files_.empty(); }
    const std::vector<std::filesystem::path> paths() const;

  private:
    struct Pending {
        std::filesystem::path path;
        std::string data;
        mode_t mode;
    };
    std::vector<Pending> files_;
};

}  // namespace trellis
