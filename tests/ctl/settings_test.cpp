#include "settings.hpp"

#include <gtest/gtest.h>

#include <map>

#include "core/error.hpp"

namespace trellis::ctl {
namespace {

using Env = std::map<std::string, std::string>;

std::function<const char*(const char*)> getenv_from(const Env& env) {
    return [&env](const char* name) -> const char* {
        const auto it = env.find(name);
        return it == env.end() ? nullptr : it->second.c_str();
    };
}

Layer flags(std::initializer_list<std::pair<Key, std::string>> values) {
    Layer layer;
    for (const auto& [key, value] : values) layer[key] = Value{{value}, "--" + std::string(key_info(key).name)};
    return layer;
}

const std::string kFile =
    "url:\n"
    "  - https://127.0.0.11:8080\n"
    "  - https://127.0.0.12:8080\n"
    "trusted-ca-file: /etc/trellis/ca.pem\n"
    "cert-file: admin.pem\n"
    "key-file: /etc/trellis/admin-key.pem\n"
    "timeout: 5s\n";

TEST(Settings, DefaultsPointAtProvisionsAdminFiles) {
    const Settings s = resolve({});
    EXPECT_EQ(s.urls, std::vector<std::string>{"https://127.0.0.1:8080"});
    EXPECT_EQ(s.trusted_ca_file, "out/clients/admin/ca.pem");
    EXPECT_EQ(s.cert_file, "out/clients/admin/admin.pem");
    EXPECT_EQ(s.key_file, "out/clients/admin/admin-key.pem");
    EXPECT_EQ(s.timeout_ms, 15000);
    EXPECT_EQ(s.origins.at(Key::CertFile), "default");
}

TEST(Settings, FlagBeatsEnvironmentBeatsFileBeatsDefault) {
    const Env env{{"TRELLISCTL_URL", "https://127.0.0.21:8080,https://127.0.0.22:8080"},
                  {"TRELLISCTL_CERT_FILE", "/env/admin.pem"},
                  {"TRELLISCTL_TIMEOUT", "7"}};
    const Layer file = file_layer(kFile, "/home/u/.config/trellis/cli.yml");
    const Layer flag = flags({{Key::Timeout, "250ms"}});
    const Settings s = resolve({flag, env_layer(getenv_from(env)), file});
    EXPECT_EQ(s.timeout_ms, 250);                                                                         // flag
    EXPECT_EQ(s.urls, (std::vector<std::string>{"https://127.0.0.21:8080", "https://127.0.0.22:8080"}));  // env
    EXPECT_EQ(s.cert_file, "/env/admin.pem");                                                             // env
    EXPECT_EQ(s.trusted_ca_file, "/etc/trellis/ca.pem");                                                  // file
    EXPECT_EQ(s.origins.at(Key::Timeout), "--timeout");
    EXPECT_EQ(s.origins.at(Key::Url), "TRELLISCTL_URL");
    EXPECT_EQ(s.origins.at(Key::TrustedCaFile), "/home/u/.config/trellis/cli.yml:4");
}

TEST(Settings, FileAloneGivesItsValuesAndResolvesRelativePathsAgainstItsFolder) {
    const Settings s = resolve({Layer{}, file_layer(kFile, "/home/u/.config/trellis/cli.yml")});
    EXPECT_EQ(s.urls, (std::vector<std::string>{"https://127.0.0.11:8080", "https://127.0.0.12:8080"}));
    EXPECT_EQ(s.cert_file, "/home/u/.config/trellis/admin.pem");
    EXPECT_EQ(s.key_file, "/etc/trellis/admin-key.pem");
    EXPECT_EQ(s.timeout_ms, 5000);
}

TEST(Settings, EmptyEnvironmentVariablesAreIgnored) {
    const Env env{{"TRELLISCTL_URL", ""}};
    EXPECT_TRUE(env_layer(getenv_from(env)).empty());
}

TEST(Settings, BadValuesNameWhereTheyCameFrom) {
    const Env env{{"TRELLISCTL_URL", "127.0.0.11:8080"}};
    try {
        resolve({env_layer(getenv_from(env))});
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), Code::Usage);
        EXPECT_EQ(std::string(e.what()).rfind("TRELLISCTL_URL: ", 0), 0u) << e.what();
    }
    try {
        resolve({file_layer("timeout: soon\n", "cli.yml")});
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), Code::Usage);
        EXPECT_EQ(std::string(e.what()).rfind("cli.yml:1: ", 0), 0u) << e.what();
    }
}

struct BadFile {
    std::string text;
    std::string expected;  // start of the message
};

TEST(Settings, ConfigFileIsStrictAndNamesTheLine) {
    const std::vector<BadFile> cases{
        {"url: https://127.0.0.11:8080\ncert_file: a.pem\n",
         "cli.yml:2: unknown key \"cert_file\" (did you mean \"cert-file\"?)"},
        {"colour: red\n", "cli.yml:1: unknown key \"colour\""},
        {"url: [\n", "cli.yml:2: not valid YAML"},
        {"- a\n- b\n", "cli.yml:1: expected a mapping"},
        {"cert-file: [a, b]\n", "cli.yml:1: cert-file: expected a string"},
        {"url:\n  - {a: b}\n", "cli.yml:2: url: each entry must be a plain value"},
        {"key-file: \"\"\n", "cli.yml:1: key-file: the value is empty"},
        {"timeout: 1s\ntimeout: 2s\n", "cli.yml:2: timeout: set twice in the same file; keep one"},
    };
    for (const auto& c : cases) {
        try {
            file_layer(c.text, "cli.yml");
            ADD_FAILURE() << "no error for: " << c.text;
        } catch (const Error& e) {
            EXPECT_EQ(e.code(), Code::ConfigInvalid) << c.text;
            EXPECT_EQ(std::string(e.what()).rfind(c.expected, 0), 0u) << e.what();
        }
    }
    EXPECT_TRUE(file_layer("", "cli.yml").empty());
    EXPECT_TRUE(file_layer("# only a comment\n", "cli.yml").empty());
}

TEST(Settings, RenderedConfigReadsBackToTheSameSettings) {
    const Settings s = resolve({flags({{Key::TrustedCaFile, "/pki/ca.pem"},
                                       {Key::CertFile, "/pki/admin.pem"},
                                       {Key::KeyFile, "/pki/admin-key.pem"},
                                       {Key::Timeout, "1500ms"}}),
                                Layer{{Key::Url, Value{{"https://127.0.0.11:8080", "https://[::1]:8080"}, "--url"}}}});
    const std::string text = render_config(s);
    EXPECT_EQ(text.rfind("# trellisctl connection settings", 0), 0u);
    const Settings back = resolve({file_layer(text, "/x/cli.yml")});
    EXPECT_EQ(back.urls, s.urls);
    EXPECT_EQ(back.trusted_ca_file, s.trusted_ca_file);
    EXPECT_EQ(back.cert_file, s.cert_file);
    EXPECT_EQ(back.key_file, s.key_file);
    EXPECT_EQ(back.timeout_ms, 1500);
}

TEST(Settings, ConfigPathFollowsXdgThenHome) {
    EXPECT_EQ(default_config_path(getenv_from({{"HOME", "/home/u"}})), "/home/u/.config/trellis/cli.yml");
    EXPECT_EQ(default_config_path(getenv_from({{"HOME", "/home/u"}, {"XDG_CONFIG_HOME", "/cfg"}})),
              "/cfg/trellis/cli.yml");
    EXPECT_EQ(default_config_path(getenv_from({{"XDG_CONFIG_HOME", "relative"}, {"HOME", "/h"}})),
              "/h/.config/trellis/cli.yml");
    EXPECT_TRUE(default_config_path(getenv_from({})).empty());
}

}  // namespace
}  // namespace trellis::ctl
