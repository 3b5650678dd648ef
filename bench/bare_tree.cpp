// The filesystem's own cost of a provisioning run (issue 14, goal 2): makes the same folders and files
// as a reference tree, with the same sizes and modes, by the shortest honest route (mkdir; open, write,
// close per file; one syncfs at the end, because a provisioning run's files must be on disk when it
// says so). bench/provision.sh times it beside cluster-config. Usage: bare-tree REFERENCE OUT
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

struct Entry {
    fs::path relative;
    bool folder;
    size_t size;
    mode_t mode;
};

std::vector<Entry> list(const fs::path& reference) {
    std::vector<Entry> out;
    for (const auto& e : fs::recursive_directory_iterator(reference)) {
        struct stat st {};
        if (::lstat(e.path().c_str(), &st) != 0) continue;
        out.push_back({e.path().lexically_relative(reference), S_ISDIR(st.st_mode), static_cast<size_t>(st.st_size),
                       st.st_mode & 07777});
    }
    return out;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: bare-tree REFERENCE OUT\n");
        return 2;
    }
    const fs::path out = argv[2];
    const std::vector<Entry> entries = list(argv[1]);  // parents come before their children
    const std::string bytes(1 << 16, 'x');
    for (const auto& e : entries) {
        const fs::path p = out / e.relative;
        if (e.folder) {
            if (::mkdir(p.c_str(), 0755) != 0) return std::perror(p.c_str()), 1;
            continue;
        }
        const int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, e.mode);
        if (fd < 0 || ::write(fd, bytes.data(), std::min(e.size, bytes.size())) < 0 || ::close(fd) != 0)
            return std::perror(p.c_str()), 1;
    }
    const int fd = ::open(out.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 || ::syncfs(fd) != 0) return std::perror(out.c_str()), 1;
    ::close(fd);
    return 0;
}
