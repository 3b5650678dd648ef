// One command-line convention across the five tools, run as a user runs them (issue 13, item 6):
// `version` and `version --format json`; errors as "TOOL: error: MESSAGE (code N)" on stderr or, with
// --format json, one {"code":N,"message":"..."} on stdout; "did you mean" for a misspelt command and
// flag; usage errors exit 2, failed work 1; a subcommand's --help lists the global flags. Plus
// cluster-config's progress lines off a terminal (item 9).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <regex>

#include "support.hpp"

namespace trellis::testing {
namespace {

using ::testing::HasSubstr;

struct ToolCase {
    std::string name;                   // also the tool's binary name
    std::string binary;                 // under the build dir
    std::vector<std::string> typo;      // a misspelt command (or flag, for certgen-json)
    std::string typo_says;              // ... and what the error suggests
    std::vector<std::string> bad_flag;  // a misspelt flag
    std::string bad_flag_says;
    std::vector<std::string> failing;  // a well-formed command whose work fails: /nonexist is not there
    int failing_code;
    std::vector<std::string> sub_help;  // a subcommand's --help: lists --format as a global flag
};

const std::vector<ToolCase>& tools() {
    static const std::vector<ToolCase> all{
        {"certgen",
         "certgen/certgen",
         {"gencrt", "-initca", "-"},
         "(did you mean \"gencert\"?)",
         {"gencert", "--inica", "-"},
         "(did you mean --initca?)",
         {"gencert", "-initca", "/nonexist"},
         13001,
         {"gencert", "--help"}},
        {"certgen-json",
         "certgen/certgen-json",
         {"--bar"},
         "(did you mean --bare?)",
         {"-overwrit"},
         "(did you mean -overwrite?)",
         {"-f", "/nonexist"},
         13001,
         {}},
        {"cluster-config",
         "cluster-config/cluster-config",
         {"provison", "spec.yml", "--out", "x"},
         "(did you mean \"provision\"?)",
         {"provision", "spec.yml", "--ot", "x"},
         "(did you mean --out?)",
         {"provision", "/nonexist", "--out", "/nonexist-out"},
         13001,
         {"provision", "--help"}},
        {"trellis-backend",
         "backend/trellis-backend",
         {"strat"},
         "(did you mean \"start\"?)",
         {"start", "--confg", "x.yml"},
         "(did you mean --config?)",
         {"start", "--config", "/nonexist"},
         13001,
         {"start", "--help"}},
        {"trellisctl",
         "ctl/trellisctl",
         {"cluster", "helth"},
         "(did you mean \"health\"?)",
         {"cluster", "health", "--ur", "https://127.0.0.231:8080"},
         "(did you mean --url?)",
         {"--config", "/nonexist", "cluster", "health"},
         13001,
         {"cluster", "member-list", "--help"}},
    };
    return all;
}

RunResult tool(const ToolCase& t, std::vector<std::string> args) {
    args.insert(args.begin(), build_path(t.binary).string());
    return run(args, {}, {}, 60);
}

std::vector<std::string> with(std::vector<std::string> args, const std::string& extra) {
    args.push_back(extra);
    return args;
}

// "TOOL: error: ... (code N)" on one line; N or -1.
int text_error_code(const ToolCase& t, const RunResult& r) {
    static const std::regex line(R"(^(.*): error: .* \(code (\d+)\)\n$)");
    std::smatch m;
    if (!std::regex_match(r.err, m, line) || m[1] != t.name) return -1;
    return std::stoi(m[2]);
}

TEST(Convention, VersionIsOneLineOfTextOrJson) {
    for (const auto& t : tools()) {
        const RunResult text = tool(t, {"version"});
        EXPECT_EQ(text.exit_code, 0) << t.name << ": " << text.err;
        EXPECT_EQ(text.out, t.name + " version 0.1.0\n");
        for (const auto& args : {std::vector<std::string>{"version", "--format", "json"},
                                 std::vector<std::string>{"--format=json", "version"}}) {
            const RunResult json = tool(t, args);
            EXPECT_EQ(json.exit_code, 0) << t.name << ": " << json.err;
            EXPECT_EQ(json.out, "{\"tool\":\"" + t.name + "\",\"version\":\"0.1.0\"}\n") << t.name;
        }
    }
}

TEST(Convention, FailedWorkIsOneTextLineOrOneJsonObject) {
    for (const auto& t : tools()) {
        const RunResult text = tool(t, t.failing);
        EXPECT_EQ(text.exit_code, 1) << t.name << ": " << text.err;
        EXPECT_EQ(text_error_code(t, text), t.failing_code) << t.name << ": " << text.err;
        EXPECT_EQ(text.out, "") << t.name;
        EXPECT_THAT(text.err, HasSubstr("/nonexist")) << t.name;

        const RunResult json = tool(t, with(with(t.failing, "--format"), "json"));
        EXPECT_EQ(json.exit_code, 1) << t.name << ": " << json.err;
        ASSERT_EQ(std::count(json.out.begin(), json.out.end(), '\n'), 1) << t.name << ": " << json.out;
        const auto j = nlohmann::json::parse(json.out);
        EXPECT_EQ(j.size(), 2u) << json.out;
        EXPECT_EQ(j["code"], t.failing_code) << t.name << ": " << json.out;
        EXPECT_THAT(j["message"].get<std::string>(), HasSubstr("/nonexist")) << t.name;
        EXPECT_EQ(json.err, "") << t.name;
    }
}

TEST(Convention, MisspeltCommandsAndFlagsGetTheClosestNameAndExitTwo) {
    for (const auto& t : tools()) {
        for (const auto& [args, says] : {std::pair{t.typo, t.typo_says}, std::pair{t.bad_flag, t.bad_flag_says}}) {
            const RunResult text = tool(t, args);
            EXPECT_EQ(text.exit_code, 2) << t.name << ": " << text.err;
            EXPECT_EQ(text_error_code(t, text), 12006) << t.name << ": " << text.err;
            EXPECT_THAT(text.err, HasSubstr(says)) << t.name;
            EXPECT_THAT(text.err, HasSubstr("--help")) << t.name;
            const RunResult json = tool(t, with(with(args, "--format"), "json"));
            EXPECT_EQ(json.exit_code, 2) << t.name << ": " << json.err;
            const auto j = nlohmann::json::parse(json.out);
            EXPECT_EQ(j["code"], 12006) << t.name;
            EXPECT_THAT(j["message"].get<std::string>(), HasSubstr(says)) << t.name;
        }
    }
}

TEST(Convention, NoCommandListsTheCommands) {
    for (const auto& t : tools()) {
        if (t.name == "certgen-json") continue;  // it has no commands: it reads stdin
        const RunResult r = tool(t, {});
        EXPECT_EQ(r.exit_code, 2) << t.name;
        EXPECT_THAT(r.err, HasSubstr("missing command after \"" + t.name + "\": one of ")) << t.name;
        EXPECT_THAT(r.err, HasSubstr("version")) << t.name;
        EXPECT_THAT(r.err, Not(HasSubstr("A subcommand is required"))) << t.name;
    }
}

TEST(Convention, SubcommandHelpListsTheGlobalFlags) {
    for (const auto& t : tools()) {
        if (t.sub_help.empty()) continue;
        const RunResult r = tool(t, t.sub_help);
        EXPECT_EQ(r.exit_code, 0) << t.name << ": " << r.err;
        const auto globals = r.out.find("Global options (before or after the command):");
        ASSERT_NE(globals, std::string::npos) << t.name << ": " << r.out;
        EXPECT_NE(r.out.find("--format", globals), std::string::npos) << t.name << ": " << r.out;
        EXPECT_NE(r.out.find("Examples:", globals), std::string::npos) << t.name << ": " << r.out;
    }
    const RunResult ctl = tool(tools().back(), {"cluster", "health", "--help"});
    EXPECT_THAT(ctl.out, HasSubstr("--url"));
    EXPECT_THAT(ctl.out, HasSubstr("--cert-file"));
}

// Off a terminal (this test's pipes), long provisioning prints whole lines with done/total and a rate.
// Forty RSA agents on one worker take about 1.6 s here (ten took 0.4 s once both primes were searched
// for together, too short for three lines at 0.2 s).
TEST(Progress, OffATerminalProvisionPrintsLinesWithDoneTotalAndRate) {
    TempDir tmp;
    spit(tmp / "spec.yml", R"(cluster: {name: p}
pki: {leaf: {key: {algo: rsa, size: 2048}}}
nodes:
  - {name: n1, address: 127.0.0.231}
clients:
  - {name: agent, count: 40}
)");
    const RunResult r =
        run({"env", "TRELLIS_PROGRESS_INTERVAL=0.2", build_path("cluster-config/cluster-config").string(), "provision",
             (tmp / "spec.yml").string(), "--out", (tmp / "out").string(), "--threads", "1"},
            {}, {}, 300);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.err.find('\r'), std::string::npos) << "no terminal rewriting in a log: " << r.err;
    static const std::regex line(R"(cluster-config: issuing certificates (\d+)/(\d+) \((\d+\.\d)/s\))");
    std::vector<std::pair<int, int>> seen;
    for (auto it = std::sregex_iterator(r.err.begin(), r.err.end(), line); it != std::sregex_iterator(); ++it) {
        seen.emplace_back(std::stoi((*it)[1]), std::stoi((*it)[2]));
        EXPECT_GE(std::stod((*it)[3]), 0.0) << it->str();
    }
    ASSERT_GE(seen.size(), 3u) << "a line every 0.2 s of a few seconds' work, and the total: " << r.err;
    const int total = seen.front().second;
    EXPECT_GE(total, 10) << r.err;
    for (size_t i = 1; i < seen.size(); ++i) {
        EXPECT_EQ(seen[i].second, total);
        EXPECT_GE(seen[i].first, seen[i - 1].first) << r.err;
    }
    EXPECT_EQ(seen.back().first, total) << "the last line has the total: " << r.err;
}

}  // namespace
}  // namespace trellis::testing
