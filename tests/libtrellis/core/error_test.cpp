#include "core/error.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/cli.hpp"

namespace trellis {

TEST(Error, CarriesStableCodeAndMessage) {
    const Error e(Code::KeyUnsupported, "RSA keys under 2048 bits are refused");
    EXPECT_EQ(e.number(), 2102);
    EXPECT_STREQ(e.what(), "RSA keys under 2048 bits are refused");
    EXPECT_EQ(code_name(e.code()), "KeyUnsupported");
}

TEST(Error, JsonIsOneLineWithCodeAndMessage) {
    const Error e(Code::PolicyUnknownProfile, "profile \"peer\" is not \"in\" the config");
    const std::string text = e.to_json();
    EXPECT_EQ(text.find('\n'), std::string::npos);
    const auto parsed = nlohmann::json::parse(text);
    EXPECT_EQ(parsed["code"], 5002);
    EXPECT_EQ(parsed["message"], "profile \"peer\" is not \"in\" the config");
}

TEST(Cli, MapsErrorsToDocumentedExitCodes) {
    EXPECT_EQ(cli::run("t", cli::Format::Text, [] { return 0; }), 0);
    EXPECT_EQ(cli::run("t", cli::Format::Text, []() -> int { throw Error(Code::Usage, "bad flag"); }), 2);
    EXPECT_EQ(cli::run("t", cli::Format::Json, []() -> int { throw Error(Code::ConnectFailed, "refused"); }), 3);
    EXPECT_EQ(cli::run("t", cli::Format::Json, []() -> int { throw Error(Code::CsrInvalid, "bad"); }), 1);
    EXPECT_EQ(cli::run("t", cli::Format::Json, []() -> int { throw std::runtime_error("boom"); }), 1);
}

}  // namespace trellis

#include <fstream>
#include <regex>
#include <sstream>

#include "support.hpp"

namespace trellis {

// docs/errors.md is what users read; it must list exactly the codes the code has.
TEST(Error, DocsListEveryCodeWithItsName) {
    std::ifstream in(testing::source_path("docs/errors.md"));
    ASSERT_TRUE(in) << "docs/errors.md missing";
    std::stringstream text;
    text << in.rdbuf();
    const std::string doc = text.str();
    const std::regex row(R"(\| (\d+) \| (\w+) \|)");
    std::vector<std::pair<int, std::string>> documented;
    for (auto it = std::sregex_iterator(doc.begin(), doc.end(), row); it != std::sregex_iterator(); ++it)
        documented.emplace_back(std::stoi((*it)[1]), (*it)[2]);
    std::vector<std::pair<int, std::string>> actual;
    int previous = 0;
    for (const auto& info : all_codes()) {
        EXPECT_LT(previous, static_cast<int>(info.code)) << "all_codes() must be in numeric order without repeats";
        previous = static_cast<int>(info.code);
        actual.emplace_back(static_cast<int>(info.code), std::string(info.name));
    }
    EXPECT_EQ(documented, actual);
}

}  // namespace trellis
