// Golden tests: every tests/data/cluster-config/<case>/spec.yml rendered by the CLI must
// produce exactly the files under <case>/expected/. Regenerate with TRELLIS_UPDATE_GOLDEN=1
// (see tests/data/cluster-config/README.md) and review the diff.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>

#include "golden_files.hpp"
#include "support.hpp"

namespace trellis::testing {
namespace {

namespace fs = std::filesystem;

std::map<std::string, std::string> tree(const fs::path& root) {
    std::map<std::string, std::string> out;
    if (!fs::exists(root)) return out;
    for (const auto& e : fs::recursive_directory_iterator(root))
        if (e.is_regular_file()) out[fs::relative(e.path(), root).string()] = slurp(e.path());
    return out;
}

// Extra CLI arguments for a case, one per line in <case>/args (optional).
std::vector<std::string> case_args(const fs::path& dir) {
    std::vector<std::string> out;
    if (!fs::exists(dir / "args")) return out;
    std::istringstream in(slurp(dir / "args"));
    for (std::string word; in >> word;) out.push_back(word);
    return out;
}

TEST(Golden, RenderedFilesMatchExpected) {
    const fs::path root = data_path("cluster-config");
    const bool update = update_golden();
    int cases = 0;
    for (const auto& entry : fs::directory_iterator(root)) {
        const fs::path dir = entry.path();
        if (!fs::exists(dir / "spec.yml")) continue;
        ++cases;
        SCOPED_TRACE(dir.filename().string());
        TempDir out;
        // Run from the case directory with a relative spec path, so the output does not name the checkout.
        std::vector<std::string> argv{build_path("cluster-config/cluster-config").string(), "render", "spec.yml",
                                      "--out", out.path().string()};
        for (auto& a : case_args(dir)) argv.push_back(a);
        const RunResult r = run(argv, {}, dir);
        ASSERT_EQ(r.exit_code, 0) << r.err;
        const auto got = tree(out.path());
        if (update) {
            fs::remove_all(dir / "expected");
            for (const auto& [rel, content] : got) {
                fs::create_directories((dir / "expected" / rel).parent_path());
                spit(dir / "expected" / rel, content);
            }
            continue;
        }
        const auto want = tree(dir / "expected");
        ASSERT_FALSE(want.empty()) << "no expected files; run with TRELLIS_UPDATE_GOLDEN=1";
        for (const auto& [rel, content] : want) {
            auto it = got.find(rel);
            ASSERT_NE(it, got.end()) << rel << " was not rendered";
            EXPECT_EQ(it->second, content) << rel << " differs";
        }
        for (const auto& [rel, _] : got) EXPECT_TRUE(want.contains(rel)) << rel << " rendered but not expected";
    }
    EXPECT_GE(cases, 6);
}

}  // namespace
}  // namespace trellis::testing
