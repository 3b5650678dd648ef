// Helpers shared by the tests: scratch directories, running our binaries and
// reading the fixtures under tests/data.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace trellis::testing {

// A fresh directory under $TMPDIR, removed when the object goes away.
class TempDir {
  public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const { return path_; }
    std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

  private:
    std::filesystem::path path_;
};

struct RunResult {
    int exit_code = -1;
    std::string out;
    std::string err;
};

// Runs argv[0] with the rest as arguments (no shell), feeding `input` on stdin,
// in `cwd` if set; bounded by `timeout_seconds` (killed and reported as exit 124).
RunResult run(const std::vector<std::string>& argv, const std::string& input = {},
              const std::filesystem::path& cwd = {}, int timeout_seconds = 60);

// Path of a built executable, e.g. build_path("certgen/certgen").
std::filesystem::path build_path(const std::string& relative);
// Path of a fixture under tests/data.
std::filesystem::path data_path(const std::string& relative);
// Path inside the source tree.
std::filesystem::path source_path(const std::string& relative);

std::string slurp(const std::filesystem::path& path);
void spit(const std::filesystem::path& path, const std::string& data);

}  // namespace trellis::testing

namespace trellis::testing {

// Whether something accepts TCP connections at host:port (an IPv4 address; on loopback a closed port
// refuses at once, so this does not wait).
bool accepts_connections(const std::string& host, int port);

// Serializes tests (and developers' runs) that use the shared loopback hosts
// 127.0.0.11-127.0.0.14 with the standard ports: an flock held for the
// object's lifetime, waited for at most `max_wait_seconds`.
class LoopbackLock {
  public:
    explicit LoopbackLock(int max_wait_seconds = 600);
    ~LoopbackLock();
    LoopbackLock(const LoopbackLock&) = delete;
    LoopbackLock& operator=(const LoopbackLock&) = delete;

  private:
    int fd_ = -1;
};

}  // namespace trellis::testing
