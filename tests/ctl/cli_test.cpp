// trellisctl as a user runs it: exit codes of usage errors, configure's file, where settings come from,
// help and completion. No backend needed: connection attempts go to 127.0.0.62:1, where nobody listens.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>

#include "support.hpp"

namespace {

using trellis::testing::RunResult;
using trellis::testing::TempDir;

std::string tool() { return trellis::testing::build_path("ctl/trellisctl").string(); }

// Runs trellisctl with HOME in a scratch folder and no TRELLISCTL_* variables but those given.
class Ctl : public ::testing::Test {
  protected:
    void SetUp() override {
        for (const char* name : {"TRELLISCTL_URL", "TRELLISCTL_TRUSTED_CA_FILE", "TRELLISCTL_CERT_FILE",
                                 "TRELLISCTL_KEY_FILE", "TRELLISCTL_TIMEOUT", "TRELLISCTL_CONFIG", "XDG_CONFIG_HOME"})
            ::unsetenv(name);
        ::setenv("HOME", home.path().c_str(), 1);
    }
    RunResult ctl(std::vector<std::string> args) {
        args.insert(args.begin(), tool());
        return trellis::testing::run(args, {}, {}, 30);
    }
    std::string tls(const std::string& name) { return trellis::testing::data_path("ctl/tls/" + name).string(); }
    std::vector<std::string> creds() {
        return {"--trusted-ca-file", tls("ca.pem"), "--cert-file",
                tls("admin.pem"),    "--key-file",  tls("admin-key.pem")};
    }
    TempDir home;
};

struct UsageCase {
    std::vector<std::string> args;
    std::string message;  // part of the one-line error
};

TEST_F(Ctl, UsageErrorsExitTwoWithOneLine) {
    const std::vector<UsageCase> cases{
        {{"cluster", "member-remove", "xyz"}, "ID: \"xyz\" is not a member ID"},
        {{"cluster", "member-remove", "12345678901234567"}, "more than 16 hex digits"},
        {{"cluster", "member-update", "2f7ae42c315f8c2d", "10.0.0.4:2380"},
         "PEER-URLS: \"10.0.0.4:2380\" is not a valid URL"},
        {{"cluster", "member-add", "backend-4", "https://127.0.0.14"},
         "the port is missing (write it, e.g. https://10.0.0.1:2380)"},
        {{"cluster", "member-add", "a=b", "https://127.0.0.14:2380"}, "NAME: \"a=b\" is not a valid member name"},
        {{"cluster", "member-add", "backend-4"}, "PEER-URLS is required"},
        {{"cluster", "member-add", "backend-4", "https://127.0.0.14:2380", "--render", "spec.yml"},
         "--render requires --out"},
        {{"--url", "127.0.0.11:8080", "cluster", "health"}, "--url: \"127.0.0.11:8080\" is not a valid URL"},
        {{"--timeout", "soon", "cluster", "health"}, "--timeout: \"soon\" is not a timeout"},
        {{"--format", "xml", "cluster", "health"}, "--format: \"xml\" is not a format"},
        {{"cluster", "health", "--bogus"}, "--bogus"},
        {{"cluster"}, "missing command after \"trellisctl cluster\": one of health, member-add"},
        {{"cluster", "helth"}, "unknown command \"helth\" (did you mean \"health\"?)"},
        {{"cluster", "health", "--formt", "json"}, "unknown flag --formt (did you mean --format?)"},
        {{"completion", "fish"}, "fish"},
    };
    for (const auto& c : cases) {
        const RunResult r = ctl(c.args);
        EXPECT_EQ(r.exit_code, 2) << c.args.back() << ": " << r.err;
        EXPECT_EQ(r.err.rfind("trellisctl: error: ", 0), 0u) << r.err;
        EXPECT_NE(r.err.find(c.message), std::string::npos) << r.err;
        EXPECT_NE(r.err.find(" (code 12006)\n"), std::string::npos) << r.err;
        EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
        EXPECT_EQ(r.out, "");
    }
}

TEST_F(Ctl, ArgumentsAreCheckedBeforeFilesOrNetwork) {
    // Missing default certificate files would be exit 1; a bad ID must still be a usage error.
    const RunResult r = ctl({"--url", "https://127.0.0.62:1", "cluster", "member-remove", "zz"});
    EXPECT_EQ(r.exit_code, 2) << r.err;
}

TEST_F(Ctl, UnreachableBackendIsExitThree) {
    auto args = creds();
    args.insert(args.end(), {"--url", "https://127.0.0.62:1", "cluster", "health"});
    const RunResult r = ctl(args);
    EXPECT_EQ(r.exit_code, 3) << r.err;
    EXPECT_EQ(
        r.err,
        "trellisctl: error: cannot reach the backend: https://127.0.0.62:1: connection refused or host unreachable "
        "(code 16001)\n");
}

TEST_F(Ctl, MissingCertificateNamesTheSettingAndHowToSetIt) {
    const RunResult r = ctl({"--url", "https://127.0.0.62:1", "cluster", "member-list"});
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_NE(r.err.find("cert-file (from default): out/clients/admin/admin.pem"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("TRELLISCTL_CERT_FILE or `trellisctl configure`"), std::string::npos) << r.err;
}

TEST_F(Ctl, ConfigureWritesASecretFileAndRefusesToReplaceItSilently) {
    auto args = creds();
    args.insert(args.begin(), {"configure", "--url", "https://127.0.0.62:1,https://127.0.0.63:1", "--timeout", "2s"});
    RunResult r = ctl(args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto path = home.path() / ".config/trellis/cli.yml";
    EXPECT_EQ(r.out, "wrote " + path.string() + "\n");
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    const std::string text = trellis::testing::slurp(path);
    EXPECT_NE(text.find("- https://127.0.0.62:1"), std::string::npos) << text;
    EXPECT_NE(text.find("cert-file: " + tls("admin.pem")), std::string::npos) << text;
    EXPECT_NE(text.find("timeout: 2s"), std::string::npos) << text;

    // Same settings again: nothing to replace. Different ones: only with --overwrite.
    EXPECT_EQ(ctl({"configure"}).exit_code, 0);
    r = ctl({"configure", "--timeout", "9s"});
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_NE(r.err.find("pass --overwrite"), std::string::npos) << r.err;
    EXPECT_EQ(trellis::testing::slurp(path), text);
    r = ctl({"configure", "--timeout", "9s", "--overwrite"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    const std::string changed = trellis::testing::slurp(path);
    EXPECT_NE(changed.find("timeout: 9s"), std::string::npos) << changed;
    EXPECT_NE(changed.find("- https://127.0.0.63:1"), std::string::npos) << "flags not given keep the file's values";
}

TEST_F(Ctl, SettingsComeFromFlagThenEnvironmentThenFile) {
    auto args = creds();
    args.insert(args.begin(), {"configure", "--url", "https://127.0.0.62:1"});
    ASSERT_EQ(ctl(args).exit_code, 0);
    // The file's URL is used when nothing else is given...
    RunResult r = ctl({"cluster", "health"});
    EXPECT_EQ(r.exit_code, 3) << r.err;
    EXPECT_NE(r.err.find("https://127.0.0.62:1: connection refused"), std::string::npos) << r.err;
    // ...the environment's over the file's...
    ::setenv("TRELLISCTL_URL", "https://127.0.0.63:1", 1);
    r = ctl({"cluster", "health"});
    EXPECT_NE(r.err.find("https://127.0.0.63:1: connection refused"), std::string::npos) << r.err;
    // ...and the flag's over both.
    r = ctl({"cluster", "health", "--url", "https://127.0.0.64:1"});
    EXPECT_NE(r.err.find("https://127.0.0.64:1: connection refused"), std::string::npos) << r.err;
    // A bad value names where it came from.
    ::setenv("TRELLISCTL_TIMEOUT", "later", 1);
    r = ctl({"cluster", "health"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("TRELLISCTL_TIMEOUT: \"later\""), std::string::npos) << r.err;
}

// Issue 9: a key-file that is not the cert-file's is a local mistake (exit 1, KeyMismatch), found
// before any connection, not "cannot connect".
TEST_F(Ctl, KeyOfAnotherCertificateIsAMismatchNotExitThree) {
    const RunResult r = ctl({"--trusted-ca-file", tls("ca.pem"), "--cert-file", tls("admin.pem"), "--key-file",
                             tls("stranger-key.pem"), "--url", "https://127.0.0.62:1", "cluster", "health"});
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_NE(r.err.find("does not belong to cert-file"), std::string::npos) << r.err;
}

// Issue 9: `[a]: x` is legal YAML; a key that is not a plain name was an internal error.
TEST_F(Ctl, NonScalarKeyInConfigIsNamed) {
    const auto path = home.path() / "cli.yml";
    trellis::testing::spit(path, "url: https://127.0.0.62:1\n[a, b]: x\n");
    const RunResult r = ctl({"--config", path.string(), "cluster", "health"});
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_NE(r.err.find(":2: a key must be a plain name"), std::string::npos) << r.err;
}

TEST_F(Ctl, BrokenConfigFileIsNamedWithItsLine) {
    const auto path = home.path() / "cli.yml";
    trellis::testing::spit(path, "url: https://127.0.0.62:1\ncert_file: x\n");
    const RunResult r = ctl({"--config", path.string(), "cluster", "health"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(r.err, "trellisctl: error: " + path.string() +
                         ":2: unknown key \"cert_file\" (did you mean \"cert-file\"?) (code 14002)\n");
}

TEST_F(Ctl, HelpOfEveryCommandHasExamples) {
    const std::vector<std::vector<std::string>> commands{{},
                                                         {"cluster"},
                                                         {"cluster", "health"},
                                                         {"cluster", "certs"},
                                                         {"cluster", "member-add"},
                                                         {"cluster", "member-list"},
                                                         {"cluster", "member-remove"},
                                                         {"cluster", "member-update"},
                                                         {"cluster", "snapshot", "save"},
                                                         {"cluster", "snapshot", "status"},
                                                         {"cluster", "member-replace"},
                                                         {"configure"},
                                                         {"version"},
                                                         {"completion"}};
    for (auto args : commands) {
        args.push_back("--help");
        const RunResult r = ctl(args);
        EXPECT_EQ(r.exit_code, 0) << r.err;
        EXPECT_NE(r.out.find("Examples:\n  trellisctl"), std::string::npos) << r.out;
    }
}

TEST_F(Ctl, VersionInEveryFormat) {
    EXPECT_EQ(ctl({"version"}).out.rfind("trellisctl version ", 0), 0u);
    EXPECT_EQ(ctl({"version", "--format", "json"}).out, "{\"tool\":\"trellisctl\",\"version\":\"0.1.0\"}\n");
    EXPECT_NE(ctl({"version", "--format", "yaml"}).out.find("tool: \"trellisctl\""), std::string::npos);
}

TEST_F(Ctl, CompletionScriptsArePrintedAsShipped) {
    RunResult r = ctl({"completion", "bash"});
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_EQ(r.out, trellis::testing::slurp(trellis::testing::source_path("ctl/completion/trellisctl.bash")));
    r = ctl({"completion", "zsh"});
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_EQ(r.out, trellis::testing::slurp(trellis::testing::source_path("ctl/completion/_trellisctl")));
}

// Drives the bash completion function as bash would on <TAB>.
std::string complete_bash(const std::string& line) {
    const std::string script =
        "source '" + trellis::testing::source_path("ctl/completion/trellisctl.bash").string() + "'\nCOMP_LINE='" +
        line + "'\nread -ra COMP_WORDS <<< \"$COMP_LINE\"\n" +
        "[[ \"$COMP_LINE\" == *' ' ]] && COMP_WORDS+=('')\nCOMP_CWORD=$((${#COMP_WORDS[@]} - 1))\n" +
        "_trellisctl\nprintf '%s\\n' \"${COMPREPLY[@]}\"\n";
    return trellis::testing::run({"bash", "--norc", "--noprofile", "-c", script}, {}, {}, 10).out;
}

TEST_F(Ctl, BashCompletionOffersCommandsSubcommandsAndValues) {
    EXPECT_EQ(complete_bash("trellisctl "), "cluster\nconfigure\nversion\ncompletion\n");
    EXPECT_EQ(complete_bash("trellisctl cluster member-"),
              "member-add\nmember-list\nmember-remove\nmember-replace\nmember-update\n");
    EXPECT_EQ(complete_bash("trellisctl --url https://127.0.0.11:8080 cluster h"), "health\n");
    EXPECT_EQ(complete_bash("trellisctl cluster health --format "), "table\njson\nyaml\n");
    EXPECT_EQ(complete_bash("trellisctl completion "), "bash\nzsh\n");
    EXPECT_NE(complete_bash("trellisctl cluster member-add --r").find("--render"), std::string::npos);
    EXPECT_EQ(complete_bash("trellisctl cluster sn"), "snapshot\n");
    EXPECT_EQ(complete_bash("trellisctl cluster snapshot "), "save\nstatus\n");
    EXPECT_EQ(complete_bash("trellisctl cluster snapshot save --o"), "--overwrite\n");
}

TEST_F(Ctl, SnapshotSaveNeverReplacesAFileAndStatusRefusesANonSnapshot) {
    trellis::testing::TempDir dir;
    trellis::testing::spit(dir / "mine.db", "the user's");
    // Refused before any connection is tried (nobody listens on the default URL here).
    RunResult r = ctl({"cluster", "snapshot", "save", (dir / "mine.db").string()});
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_NE(r.err.find("already exists; pass --overwrite"), std::string::npos) << r.err;
    EXPECT_EQ(trellis::testing::slurp(dir / "mine.db"), "the user's");
    r = ctl({"cluster", "snapshot", "status", (dir / "mine.db").string()});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("not an etcd snapshot"), std::string::npos) << r.err;
    // A failed save leaves nothing behind.
    std::vector<std::string> args{"--url", "https://127.0.0.62:1"};
    for (const auto& c : creds()) args.push_back(c);
    for (const char* a : {"cluster", "snapshot", "save"}) args.push_back(a);
    args.push_back((dir / "new.db").string());
    r = ctl(args);
    EXPECT_EQ(r.exit_code, 3) << r.err;
    EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path()), std::filesystem::directory_iterator()), 1);
}

// scripts/setup.sh installs zsh, so this always runs.
TEST_F(Ctl, ZshCompletionIsValidZsh) {
    const RunResult r = trellis::testing::run(
        {"zsh", "-n", trellis::testing::source_path("ctl/completion/_trellisctl").string()}, {}, {}, 10);
    EXPECT_EQ(r.exit_code, 0) << r.err;
}

}  // namespace
