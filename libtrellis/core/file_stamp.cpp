#include "core/file_stamp.hpp"

#include <sys/stat.h>

namespace trellis {
namespace {
long long nanos(const timespec& t) { return static_cast<long long>(t.tv_sec) * 1000000000LL + t.tv_nsec; }
}  // namespace

FileStamp stamp_of(const std::string& path) {
    struct stat st {};
    if (path.empty() || ::stat(path.c_str(), &st) != 0) return {};
    return {st.st_dev, st.st_ino, st.st_size, nanos(st.st_mtim), nanos(st.st_ctim)};
}

}  // namespace trellis
