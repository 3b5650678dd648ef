// Shared by the certgen tests: running the built certgen/certgen-json, the
// guide's requests, and reading the error code a failed run prints.
#pragma once

#include <sys/stat.h>

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "support.hpp"

namespace trellis::certgen_test {

namespace fs = std::filesystem;
using testing::RunResult;

inline std::string certgen_bin() { return testing::build_path("certgen/certgen").string(); }
inline std::string certgen_json_bin() { return testing::build_path("certgen/certgen-json").string(); }

inline RunResult certgen(std::vector<std::string> args, const std::string& input = {}, const fs::path& cwd = {}) {
    args.insert(args.begin(), certgen_bin());
    return testing::run(args, input, cwd, 120);
}

inline RunResult certgen_json(std::vector<std::string> args, const std::string& input = {}, const fs::path& cwd = {}) {
    args.insert(args.begin(), certgen_json_bin());
    return testing::run(args, input, cwd, 60);
}

// Debian's cfssl 1.2, the peer certgen is a drop-in for.
inline RunResult cfssl(std::vector<std::string> args, const std::string& input = {}, const fs::path& cwd = {}) {
    args.insert(args.begin(), "cfssl");
    return testing::run(args, input, cwd, 120);
}

// Runs a shell pipeline with the build's certgen and certgen-json first on PATH.
inline RunResult shell(const std::string& script, const fs::path& cwd) {
    const std::string path = testing::build_path("certgen").string() + ":/usr/sbin:/usr/bin:/sbin:/bin";
    return testing::run({"env", "PATH=" + path, "bash", "-euo", "pipefail", "-c", script}, {}, cwd, 300);
}

// The error code of the last line of stderr, "TOOL: error: MESSAGE (code N)" (docs/exit-codes.md), or -1.
inline int error_code(const RunResult& r) {
    const auto end = r.err.find_last_not_of('\n');
    if (end == std::string::npos || r.err[end] != ')') return -1;
    const auto start = r.err.rfind(" (code ", end);
    if (start == std::string::npos || r.err.find('\n', start) < end) return -1;
    try {
        return std::stoi(r.err.substr(start + 7, end - start - 7));
    } catch (const std::exception&) {
        return -1;
    }
}

inline mode_t file_mode(const fs::path& p) {
    struct stat st {};
    if (::stat(p.c_str(), &st) != 0) return 0;
    return st.st_mode & 07777;
}

inline std::vector<std::string> dir_entries(const fs::path& dir) {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
}

// The guide's requests (Sensu "Running a cluster", Security section), verbatim.
inline const std::string kCaRequest = R"({"CN":"CA","key":{"algo":"rsa","size":2048}})";
inline const std::string kCaConfig =
    R"({"signing":{"default":{"expiry":"43800h","usages":["signing","key encipherment","server auth","client auth"]}}})";
inline std::string guide_request(const std::string& name) {
    return R"({"CN":")" + name + R"(","hosts":[""],"key":{"algo":"rsa","size":2048}})";
}

}  // namespace trellis::certgen_test
