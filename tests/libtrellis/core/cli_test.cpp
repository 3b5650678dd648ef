// The convention's pure half (core/cli.hpp): how errors, versions and progress lines look, and
// which format a command line asks for before it is parsed.
#include "core/cli.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <sstream>
#include <thread>

namespace trellis::cli {
namespace {

using std::chrono::duration;

TEST(CliFormat, ReadFromTheCommandLineBeforeParsing) {
    using Args = std::vector<std::string>;
    EXPECT_EQ(requested_format(Args{"provision", "x"}), Format::Text);
    EXPECT_EQ(requested_format(Args{"provision", "--format", "json"}), Format::Json);
    EXPECT_EQ(requested_format(Args{"--format=json", "version"}), Format::Json);
    EXPECT_EQ(requested_format(Args{"gencert", "-format", "json"}), Format::Json);  // cfssl-style single dash
    EXPECT_EQ(requested_format(Args{"gencert", "-format=json"}), Format::Json);
    EXPECT_EQ(requested_format(Args{"provision", "--json"}), Format::Json);  // cluster-config's flag
    EXPECT_EQ(requested_format(Args{"--format", "yaml"}), Format::Text);
    EXPECT_EQ(requested_format(Args{"--format", "json", "--format", "text"}), Format::Text);  // the last wins
    EXPECT_EQ(requested_format(Args{"--", "--format", "json"}), Format::Text);
    EXPECT_EQ(requested_format(Args{"--format"}), Format::Text);
}

TEST(CliError, TextLineOnStderrJsonObjectOnStdout) {
    const Error e(Code::SpecInvalid, "spec.yml:3: nodes[0].address: \"x\" is not an address");
    EXPECT_EQ(error_line("cluster-config", e),
              "cluster-config: error: spec.yml:3: nodes[0].address: \"x\" is not an address (code 14001)");
    std::ostringstream out, err;
    print_error("cluster-config", e, Format::Text, out, err);
    EXPECT_EQ(out.str(), "");
    EXPECT_EQ(err.str(), error_line("cluster-config", e) + "\n");
    std::ostringstream jout, jerr;
    print_error("cluster-config", e, Format::Json, jout, jerr);
    EXPECT_EQ(jerr.str(), "");
    const auto j = nlohmann::json::parse(jout.str());
    EXPECT_EQ(j, (nlohmann::json{{"code", 14001}, {"message", e.what()}}));
}

TEST(CliVersion, OneLineTextOrJson) {
    EXPECT_EQ(version_text("certgen", Format::Text), "certgen version " + std::string(version()) + "\n");
    const auto j = nlohmann::json::parse(version_text("certgen", Format::Json));
    EXPECT_EQ(j, (nlohmann::json{{"tool", "certgen"}, {"version", version()}}));
    EXPECT_FALSE(version().empty());
    EXPECT_NE(version(), "unknown");
}

TEST(CliProgress, LineHasDoneTotalAndRate) {
    EXPECT_EQ(progress_line("cluster-config", "issuing certificates", 120, 400, duration<double>(5.0)),
              "cluster-config: issuing certificates 120/400 (24.0/s)");
    EXPECT_EQ(progress_line("t", "x", 0, 3, duration<double>(0)), "t: x 0/3 (0.0/s)");
}

TEST(CliProgress, OffATerminalWholeLinesAtTheIntervalThenATotal) {
    std::ostringstream out;
    {
        Progress progress("t", "issuing", out, /*terminal=*/false, duration<double>(0.05));
        progress(1, 10);  // before the first interval: nothing
        EXPECT_EQ(out.str(), "");
        std::this_thread::sleep_for(std::chrono::milliseconds(60));
        progress(4, 10);
        EXPECT_EQ(out.str().rfind("t: issuing 4/10 (", 0), 0u) << out.str();
        EXPECT_EQ(out.str().back(), '\n');
        progress(5, 10);  // within the interval again: nothing new
        const std::string so_far = out.str();
        EXPECT_EQ(std::count(so_far.begin(), so_far.end(), '\n'), 1);
        progress(10, 10);
    }
    const std::string text = out.str();
    EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 2) << text;
    EXPECT_NE(text.find("\nt: issuing 10/10 ("), std::string::npos) << text;
    EXPECT_EQ(text.find('\r'), std::string::npos) << "no carriage returns in a log";
}

TEST(CliProgress, QuickWorkOrZeroIntervalPrintsNothing) {
    std::ostringstream quick, off;
    {
        Progress a("t", "x", quick, false, duration<double>(5));
        a(10, 10);
        Progress b("t", "x", off, false, duration<double>(0));
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        b(10, 10);
    }
    EXPECT_EQ(quick.str(), "");
    EXPECT_EQ(off.str(), "");
}

TEST(CliProgress, OnATerminalOneLineRewrittenAfterASecond) {
    std::ostringstream out;
    {
        Progress progress("t", "x", out, /*terminal=*/true, duration<double>(5));
        progress(1, 2);
        EXPECT_EQ(out.str(), "") << "nothing in the first second";
    }
    EXPECT_EQ(out.str(), "");
}

}  // namespace
}  // namespace trellis::cli
