// What identifies one version of a file on disk, for whoever keeps something made from it (loaded TLS
// files, kept connections, parsed certificates) and must notice when it was replaced.
#pragma once

#include <sys/types.h>

#include <string>

namespace trellis {

// A replaced file (new inode) or one rewritten in place (new size or times) differs; an untouched one
// does not.
struct FileStamp {
    dev_t dev = 0;
    ino_t ino = 0;
    off_t size = -1;  // -1: missing or unreadable
    long long mtime_ns = 0;
    long long ctime_ns = 0;
    bool operator==(const FileStamp&) const = default;
};
// The stamp of `path` now (size -1 when it is missing, unreadable, or `path` is empty).
FileStamp stamp_of(const std::string& path);

}  // namespace trellis
