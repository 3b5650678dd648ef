// The convention's parser half (cli/app.hpp) over a small CLI11 tree shaped like the tools':
// what a refused command line says, and the global flags in a subcommand's help.
#include "cli/app.hpp"

#include <gtest/gtest.h>

namespace trellis::cli {
namespace {

struct Tool {
    CLI::App app{"a tool", "tool"};
    std::string format = "text", out, spec;
    bool check = false;
    CLI::App* provision = nullptr;
    CLI::App* version = nullptr;
    Tool() {
        app.require_subcommand(1);
        add_format_option(app, format, "text or json");
        provision = app.add_subcommand("provision", "provision it");
        provision->add_option("SPEC", spec, "the spec")->required();
        provision->add_option("--out,-o", out, "output directory")->required();
        provision->add_flag("--check", check, "write nothing");
        auto* group = app.add_subcommand("cluster", "cluster things");
        group->require_subcommand(1);
        group->add_subcommand("health", "health");
        group->add_subcommand("member-list", "members");
        version = add_version_command(app);
    }
    // The Code::Usage message parse() throws, or "" when it parsed.
    std::string refused(const std::vector<std::string>& args) {
        try {
            parse(app, args);
        } catch (const Error& e) {
            EXPECT_EQ(e.code(), Code::Usage);
            return e.what();
        }
        return {};
    }
};

TEST(CliApp, MisspeltFlagIsNamedWithTheClosestOne) {
    // CLI11 alone says "--out is required" here.
    EXPECT_EQ(Tool().refused({"provision", "spec.yml", "--ot", "y"}),
              "unknown flag --ot (did you mean --out?); see tool provision --help");
    EXPECT_EQ(Tool().refused({"provision", "spec.yml", "--out=y", "--chek"}),
              "unknown flag --chek (did you mean --check?); see tool provision --help");
    EXPECT_EQ(Tool().refused({"provision", "spec.yml", "-o", "y", "--zzzzzzzz"}),
              "unknown flag --zzzzzzzz; see tool provision --help");
    // A global flag is known after the command too, and suggested there.
    EXPECT_EQ(Tool().refused({"provision", "s", "-o", "y", "--formt", "json"}),
              "unknown flag --formt (did you mean --format?); see tool provision --help");
}

TEST(CliApp, MisspeltCommandIsNamedWithTheClosestOne) {
    EXPECT_EQ(Tool().refused({"provison", "spec.yml", "--out", "y"}),
              "unknown command \"provison\" (did you mean \"provision\"?); commands: provision, cluster, version; "
              "see tool --help");
    EXPECT_EQ(Tool().refused({"cluster", "helth"}),
              "unknown command \"helth\" (did you mean \"health\"?); commands: health, member-list; "
              "see tool cluster --help");
    // A flag's value is not mistaken for a command.
    EXPECT_EQ(Tool()
                  .refused({"--format", "json", "verson"})
                  .rfind("unknown command \"verson\" (did you mean \"version\"?)", 0),
              0u);
}

TEST(CliApp, MissingCommandListsTheChoices) {
    EXPECT_EQ(Tool().refused({}),
              "missing command after \"tool\": one of provision, cluster, version; see tool --help");
    EXPECT_EQ(Tool().refused({"cluster"}),
              "missing command after \"tool cluster\": one of health, member-list; see tool cluster --help");
}

TEST(CliApp, OtherRefusalsKeepCliElevensReasonAndPointAtHelp) {
    EXPECT_EQ(Tool().refused({"provision", "spec.yml"}), "--out is required; see tool provision --help");
}

TEST(CliApp, GlobalFlagsAfterTheCommandAndVersion) {
    Tool t;
    EXPECT_EQ(t.refused({"version", "--format", "json"}), "");
    EXPECT_TRUE(t.version->parsed());
    EXPECT_EQ(format_of(t.format), Format::Json);
}

TEST(CliApp, FormatIsTextOrJson) {
    EXPECT_EQ(format_of("text"), Format::Text);
    try {
        format_of("jsn");
        FAIL() << "jsn accepted";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), Code::Usage);
        EXPECT_STREQ(e.what(), "--format jsn: expected text or json (did you mean json?)");
    }
}

TEST(CliApp, SubcommandHelpListsTheGlobalFlags) {
    Tool t;
    testing::internal::CaptureStdout();
    EXPECT_TRUE(parse(t.app, {"provision", "--help"}));
    const std::string help = testing::internal::GetCapturedStdout();
    const auto globals = help.find("Global options (before or after the command):");
    ASSERT_NE(globals, std::string::npos) << help;
    EXPECT_NE(help.find("--format", globals), std::string::npos) << help;
    EXPECT_NE(help.find("--out"), std::string::npos) << help;
    EXPECT_EQ(help.find("--help", globals), std::string::npos) << "help is the command's own: " << help;
}

}  // namespace
}  // namespace trellis::cli
