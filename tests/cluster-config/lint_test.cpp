// `cluster-config lint` on the guide's own example configurations: each must produce
// the findings the guide's mistakes deserve (and exactly the golden output).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "golden_files.hpp"
#include "support.hpp"

namespace trellis::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

std::vector<std::string> inputs(const fs::path& dir) {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir)) {
        const std::string n = e.path().filename().string();
        if (n.ends_with(".yml") || n.ends_with(".json")) out.push_back(n);
    }
    std::sort(out.begin(), out.end());
    return out;
}

RunResult lint(const fs::path& dir, const std::vector<std::string>& extra = {}) {
    std::vector<std::string> argv{build_path("cluster-config/cluster-config").string(), "lint", "--no-files"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    for (auto& f : inputs(dir)) argv.push_back(f);
    return run(argv, {}, dir);
}

size_t count(const std::string& text, const std::string& needle) {
    size_t n = 0;
    for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
    return n;
}

struct GuideCase {
    std::string dir;
    std::vector<std::pair<std::string, size_t>> findings;  // code -> how many
};

TEST(LintGuide, EachGuideExampleGetsItsFindings) {
    const std::vector<GuideCase> cases = {
        // First example: https advertised, http listened; empty token.
        // Every node config also gets L130: the guide gives the API no certificate.
        {"store", {{"L101 scheme-mismatch", 3}, {"L114 empty-token", 3}, {"L130 api-transport", 3}}},
        // "Transport security" snippet: TLS files while every URL stays http.
        {"client-tls", {{"L102 tls-files-on-http", 1}, {"L130 api-transport", 1}}},
        {"client-cert-auth", {{"L102 tls-files-on-http", 1}, {"L130 api-transport", 1}}},
        // Peer TLS example: https client listen without a server cert, advertise left at http.
        {"peer-tls",
         {{"L101 scheme-mismatch", 3},
          {"L103 https-without-cert", 6},
          {"L121 no-client-auth", 3},
          {"L130 api-transport", 3},
          {"L131 store-ca-missing", 3}}},
        // ca-config.json lacks the profiles the guide's commands name.
        {"ca-config", {{"L118 missing-profile", 2}}},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.dir);
        const fs::path dir = data_path("cluster-config/guide/" + c.dir);
        const RunResult r = lint(dir);
        EXPECT_EQ(r.exit_code, 1) << r.err;
        for (const auto& [code, n] : c.findings) EXPECT_EQ(count(r.out, code), n) << code << " in\n" << r.out;
        expect_golden(dir / "expected-lint.txt", r.out);
    }
}

TEST(LintGuide, FindingsNameFileAndLine) {
    const RunResult r = lint(data_path("cluster-config/guide/store"));
    EXPECT_THAT(r.out, HasSubstr("backend-2.yml:4: L101 scheme-mismatch: etcd-advertise-client-urls uses https but "
                                 "etcd-listen-client-urls uses http"));
    EXPECT_THAT(r.out, HasSubstr("backend-3.yml:10: L114 empty-token"));
    EXPECT_THAT(r.err, HasSubstr("9 finding(s)"));
}

TEST(LintGuide, JsonOutput) {
    const RunResult r = lint(data_path("cluster-config/guide/store"), {"--json"});
    EXPECT_EQ(r.exit_code, 1);
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_FALSE(j["clean"].get<bool>());
    ASSERT_EQ(j["findings"].size(), 9u);
    EXPECT_EQ(j["findings"][0]["code"], "L101");
    EXPECT_EQ(j["findings"][0]["name"], "scheme-mismatch");
    EXPECT_EQ(j["findings"][0]["severity"], "error");
    EXPECT_EQ(j["findings"][0]["file"], "backend-1.yml");
    EXPECT_EQ(j["findings"][0]["line"], 4);
}

TEST(LintCli, CleanConfigExitsZeroAndUsageExitsTwo) {
    TempDir tmp;
    const auto cc = build_path("cluster-config/cluster-config").string();
    RunResult r = run({cc, "render", source_path("examples/loopback-3.yml").string(), "--out", tmp.path().string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    r = run({cc, "lint", "--no-files", tmp.path().string()});
    EXPECT_EQ(r.exit_code, 0) << r.out;
    EXPECT_EQ(r.out, "");
    EXPECT_THAT(r.err, HasSubstr("3 configuration(s) clean"));
    r = run({cc, "lint"});
    EXPECT_EQ(r.exit_code, 2);
    r = run({cc, "lint", "--bogus", "x"});
    EXPECT_EQ(r.exit_code, 2);
    r = run({cc, "lint", (tmp / "missing.yml").string()});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_THAT(r.err, HasSubstr("cluster-config: error: "));
    spit(tmp / "bad.yml", "etcd-name: a\netcd-nmae: b\n");
    r = run({cc, "lint", (tmp / "bad.yml").string()});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_THAT(r.err, HasSubstr("bad.yml:2: unknown key \"etcd-nmae\" (did you mean \"etcd-name\"?)"));
}

TEST(LintCli, CrossNodeFindings) {
    TempDir tmp;
    const auto cc = build_path("cluster-config/cluster-config").string();
    ASSERT_EQ(
        run({cc, "render", source_path("examples/guide-10.0.0.yml").string(), "--out", tmp.path().string()}).exit_code,
        0);
    // backend-3 with backend-2's name and a different cluster and token.
    std::string b3 = slurp(tmp / "backend-3/backend.yml");
    auto replace = [&](const std::string& from, const std::string& to) {
        const size_t at = b3.find(from);
        ASSERT_NE(at, std::string::npos) << from;
        b3.replace(at, from.size(), to);
    };
    replace("etcd-name: \"backend-3\"", "etcd-name: \"backend-2\"");
    replace("etcd-initial-cluster-token: \"sensu\"", "etcd-initial-cluster-token: \"other\"");
    spit(tmp / "backend-3/backend.yml", b3);
    const RunResult r = run({cc, "lint", "--no-files", tmp.path().string()});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_THAT(r.out, HasSubstr("L110 initial-cluster-self"));  // backend-2 now claims backend-3's URLs
    EXPECT_THAT(r.out, HasSubstr("L112 duplicate-name: etcd-name \"backend-2\" is also the name in"));
    EXPECT_THAT(r.out, HasSubstr("L124 token-differs"));
}

}  // namespace
}  // namespace trellis::testing
