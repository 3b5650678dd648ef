// cluster-config's commands end to end: provision is idempotent and minimal,
// --check and --json tell Ansible what would happen, add-node joins, and bad
// input fails with every problem named and nothing half-written.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>

#include "cluster/backend_config.hpp"
#include "pki/certificate.hpp"
#include "support.hpp"

namespace trellis::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

std::string cc() { return build_path("cluster-config/cluster-config").string(); }

RunResult cli(std::vector<std::string> args) {
    args.insert(args.begin(), cc());
    return run(args, {}, {}, 120);
}

// path -> (content, mtime) of every file under root.
std::map<std::string, std::pair<std::string, fs::file_time_type>> snapshot(const fs::path& root) {
    std::map<std::string, std::pair<std::string, fs::file_time_type>> out;
    for (const auto& e : fs::recursive_directory_iterator(root))
        if (e.is_regular_file())
            out[fs::relative(e.path(), root).string()] = {slurp(e.path()), fs::last_write_time(e.path())};
    return out;
}

std::set<std::string> changed_files(const nlohmann::json& j) {
    std::set<std::string> out;
    for (const auto& f : j["files"])
        if (f["action"] != "unchanged") out.insert(f["path"].get<std::string>());
    return out;
}

const std::string kSpec = R"(cluster: {name: t3, token: t3-token}
nodes:
  - {name: n1, address: 127.0.0.41}
  - {name: n2, address: 127.0.0.42}
  - {name: n3, address: 127.0.0.43}
clients:
  - name: admin
)";

TEST(Provision, SecondRunChangesNothingAndKeepsMtimes) {
    TempDir tmp;
    spit(tmp / "spec.yml", kSpec);
    RunResult r = cli({"provision", (tmp / "spec.yml").string(), "--out", (tmp / "out").string(), "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto first = nlohmann::json::parse(r.out);
    EXPECT_TRUE(first["changed"].get<bool>());
    EXPECT_EQ(first["certificates_issued"], 10);  // 3 server + 3 peer + 3 API + admin
    const auto before = snapshot(tmp / "out");
    r = cli({"provision", (tmp / "spec.yml").string(), "--out", (tmp / "out").string(), "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto second = nlohmann::json::parse(r.out);
    EXPECT_FALSE(second["changed"].get<bool>());
    EXPECT_EQ(second["certificates_issued"], 0);
    EXPECT_TRUE(changed_files(second).empty());
    EXPECT_EQ(snapshot(tmp / "out"), before);
}

TEST(Provision, LayoutKeysAndCaKeyPlacement) {
    TempDir tmp;
    spit(tmp / "spec.yml", kSpec);
    ASSERT_EQ(cli({"provision", (tmp / "spec.yml").string(), "--out", (tmp / "out").string()}).exit_code, 0);
    const std::string ca_key = slurp(tmp / "out/ca/ca-key.pem"), peer_ca_key = slurp(tmp / "out/ca/peer-ca-key.pem");
    std::set<std::string> n1;
    for (const auto& e : fs::recursive_directory_iterator(tmp / "out")) {
        if (!e.is_regular_file()) continue;
        const std::string rel = fs::relative(e.path(), tmp / "out").string();
        struct stat st {};
        ASSERT_EQ(::stat(e.path().c_str(), &st), 0);
        const bool key = rel.ends_with("-key.pem") || rel == ".cluster-config.json";  // the manifest too
        EXPECT_EQ(st.st_mode & 0777, key ? 0600u : 0644u) << rel;
        if (!rel.starts_with("ca/")) {
            const std::string content = slurp(e.path());
            EXPECT_NE(content, ca_key) << rel << " is a copy of the CA key";
            EXPECT_NE(content, peer_ca_key) << rel << " is a copy of the peer CA key";
        }
        if (rel.starts_with("n1/")) n1.insert(rel);
    }
    EXPECT_EQ(n1, (std::set<std::string>{"n1/backend.yml", "n1/ca.pem", "n1/peer-ca.pem", "n1/n1.pem", "n1/n1-key.pem",
                                         "n1/n1-peer.pem", "n1/n1-peer-key.pem", "n1/n1-api.pem", "n1/n1-api-key.pem",
                                         "n1/ca-crl.pem", "n1/peer-ca-crl.pem", "n1/trellis-backend.service"}));
    EXPECT_TRUE(fs::exists(tmp / "out/clients/admin/admin.pem"));
    // The node folder works wherever it is copied: backend.yml's paths are relative to it.
    fs::copy(tmp / "out/n1", tmp / "elsewhere", fs::copy_options::recursive);
    const auto c = cluster::BackendConfig::from_yaml(slurp(tmp / "elsewhere/backend.yml"),
                                                     (tmp / "elsewhere/backend.yml").string());
    EXPECT_EQ(c.get(cluster::Key::EtcdPeerKeyFile), (tmp / "elsewhere/n1-peer-key.pem").string());
    EXPECT_TRUE(fs::exists(c.get(cluster::Key::EtcdPeerKeyFile)));
    const RunResult lint = cli({"lint", (tmp / "elsewhere").string()});
    EXPECT_EQ(lint.exit_code, 0) << lint.out;
}

TEST(Provision, ChangedSpecReissuesOnlyWhatItAffects) {
    TempDir tmp;
    spit(tmp / "spec.yml", kSpec);
    ASSERT_EQ(cli({"provision", (tmp / "spec.yml").string(), "--out", (tmp / "out").string()}).exit_code, 0);
    // A new SAN on n2.
    std::string spec = kSpec;
    spec.replace(spec.find("{name: n2, address: 127.0.0.42}"), 31,
                 "{name: n2, address: 127.0.0.42, names: [n2.example.test]}");
    spit(tmp / "spec.yml", spec);
    RunResult r = cli({"provision", (tmp / "spec.yml").string(), "--out", (tmp / "out").string(), "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(changed_files(j), (std::set<std::string>{"n2/n2.pem", "n2/n2-key.pem", "n2/n2-peer.pem",
                                                       "n2/n2-peer-key.pem", "n2/n2-api.pem", "n2/n2-api-key.pem"}));
    EXPECT_THAT(j.dump(), HasSubstr("SANs changed: +n2.example.test"));
    // A fourth node (a warning: even count) changes everyone's initial cluster but no one else's certs.
    spec += "";
    spec.insert(spec.find("clients:"), "  - {name: n4, address: 127.0.0.44}\n");
    spit(tmp / "spec.yml", spec);
    r = cli({"provision", (tmp / "spec.yml").string(), "--out", (tmp / "out").string(), "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    j = nlohmann::json::parse(r.out);
    const auto changed = changed_files(j);
    for (const auto* f : {"n1/backend.yml", "n2/backend.yml", "n3/backend.yml", "n4/backend.yml", "n4/n4.pem",
                          "n4/n4-peer.pem", "n4/ca.pem", "n4/peer-ca.pem"})
        EXPECT_TRUE(changed.contains(f)) << f;
    EXPECT_FALSE(changed.contains("n1/n1.pem"));
    EXPECT_FALSE(changed.contains("ca/ca.pem"));
    EXPECT_EQ(j["certificates_issued"], 3);
    EXPECT_THAT(j["warnings"].dump(), HasSubstr("4 nodes: an even count"));
}

// The one overwrite rule: a file changed by hand is kept (and nothing written) until --force.
TEST(Provision, AHandEditedFileIsKeptUntilForcedAndTheDiffShowsWhy) {
    TempDir tmp;
    spit(tmp / "spec.yml", kSpec);
    const std::string spec = (tmp / "spec.yml").string(), out = (tmp / "out").string();
    ASSERT_EQ(cli({"provision", spec, "--out", out}).exit_code, 0);
    std::string edited = slurp(tmp / "out/n1/backend.yml");
    edited.replace(edited.find("state-dir: \"/var/lib/trellis\""), 29, "state-dir: \"/srv/mine\"");
    spit(tmp / "out/n1/backend.yml", edited);
    // provision would put the spec's value back: not without --force.
    RunResult r = cli({"provision", spec, "--out", out, "--check"});
    ASSERT_EQ(r.exit_code, 5) << r.err;  // pending: the run would not leave things as they are
    EXPECT_THAT(r.out, HasSubstr("keep " + out + "/n1/backend.yml (content differs; changed by hand"));
    r = cli({"provision", spec, "--out", out, "--diff"});
    ASSERT_EQ(r.exit_code, 5) << r.err;
    EXPECT_THAT(r.out, HasSubstr("--- a/n1/backend.yml\n+++ b/n1/backend.yml\n@@ line 7 @@\n"
                                 "-state-dir: \"/srv/mine\"\n+state-dir: \"/var/lib/trellis\"\n"));
    r = cli({"provision", spec, "--out", out});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_THAT(r.err, HasSubstr("n1/backend.yml: content differs; changed by hand since cluster-config wrote it"));
    EXPECT_EQ(slurp(tmp / "out/n1/backend.yml"), edited);
    r = cli({"provision", spec, "--out", out, "--force", "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_THAT(slurp(tmp / "out/n1/backend.yml"), HasSubstr("state-dir: \"/var/lib/trellis\""));
    EXPECT_EQ(changed_files(nlohmann::json::parse(r.out)), (std::set<std::string>{"n1/backend.yml"}));
}

// Ansible's check mode renders the spec under another name: nothing may change for that.
TEST(Provision, TheSpecFromStdinOrUnderAnotherNameChangesNothing) {
    TempDir tmp;
    spit(tmp / "spec.yml", kSpec);
    spit(tmp / "copy-elsewhere.yml", kSpec);
    const std::string out = (tmp / "out").string();
    ASSERT_EQ(cli({"provision", (tmp / "spec.yml").string(), "--out", out}).exit_code, 0);
    RunResult r = cli({"provision", (tmp / "copy-elsewhere.yml").string(), "--out", out, "--check", "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_FALSE(nlohmann::json::parse(r.out)["changed"].get<bool>()) << r.out;
    r = run({cc(), "provision", "-", "--out", out, "--json"}, kSpec, {}, 120);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_FALSE(nlohmann::json::parse(r.out)["changed"].get<bool>()) << r.out;
    r = run({cc(), "provision", "-", "--out", out}, "cluster: {name: x}\n", {}, 120);
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_THAT(r.err, HasSubstr("<stdin>:1: nodes: expected a list"));
}

// --check (and --diff) exit 5 when changes are pending and 0 when none: Ansible's changed_when.
TEST(Provision, CheckWritesNothingAndItsExitCodeSaysWhetherAnythingWouldChange) {
    TempDir tmp;
    spit(tmp / "spec.yml", kSpec);
    RunResult r = cli({"provision", (tmp / "spec.yml").string(), "--out", (tmp / "out").string(), "--check"});
    ASSERT_EQ(r.exit_code, 5) << r.err;
    EXPECT_THAT(r.out, HasSubstr("would create"));
    EXPECT_THAT(r.out, HasSubstr("changed: true"));
    EXPECT_FALSE(fs::exists(tmp / "out"));
    ASSERT_EQ(cli({"provision", (tmp / "spec.yml").string(), "--out", (tmp / "out").string()}).exit_code, 0);
    r = cli({"provision", (tmp / "spec.yml").string(), "--out", (tmp / "out").string(), "--check", "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_FALSE(nlohmann::json::parse(r.out)["changed"].get<bool>());
    r = cli({"provision", (tmp / "spec.yml").string(), "--out", (tmp / "out").string(), "--diff"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    spit(tmp / "spec.yml", kSpec + "  - name: agent-1\n");
    r = cli({"provision", (tmp / "spec.yml").string(), "--out", (tmp / "out").string(), "--check", "--json"});
    EXPECT_EQ(r.exit_code, 5) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_TRUE(j["changed"].get<bool>());
    EXPECT_TRUE(changed_files(j).contains("clients/agent-1/agent-1.pem")) << r.out;
    EXPECT_FALSE(fs::exists(tmp / "out/clients/agent-1")) << "--check wrote files";
    // A spec error is one JSON object on stdout with --json (and with --format json), exit 1.
    spit(tmp / "bad.yml", "cluster: {name: x}\n");
    for (const char* flag : {"--json", "--format=json"}) {
        r = cli({"provision", (tmp / "bad.yml").string(), "--out", (tmp / "out").string(), "--check", flag});
        EXPECT_EQ(r.exit_code, 1) << r.err;
        const auto e = nlohmann::json::parse(r.out);
        EXPECT_EQ(e["code"], 14001) << r.out;
        EXPECT_THAT(e["message"].get<std::string>(), HasSubstr("nodes: expected a list")) << r.out;
    }
}

TEST(Provision, CaKeyIsNeverReplacedWithoutForce) {
    TempDir tmp;
    spit(tmp / "spec.yml", kSpec);
    ASSERT_EQ(cli({"provision", (tmp / "spec.yml").string(), "--out", (tmp / "out").string()}).exit_code, 0);
    const std::string ca = slurp(tmp / "out/ca/ca.pem"), ca_key = slurp(tmp / "out/ca/ca-key.pem");
    fs::remove(tmp / "out/n1/n1.pem");
    RunResult r = cli({"provision", (tmp / "spec.yml").string(), "--out", (tmp / "out").string(), "--json"});
    ASSERT_EQ(r.exit_code, 0);
    EXPECT_EQ(changed_files(nlohmann::json::parse(r.out)), (std::set<std::string>{"n1/n1.pem", "n1/n1-key.pem"}));
    EXPECT_EQ(slurp(tmp / "out/ca/ca-key.pem"), ca_key);
    // A CA certificate whose key is gone: refuse rather than silently make a new CA.
    fs::remove(tmp / "out/ca/ca-key.pem");
    r = cli({"provision", (tmp / "spec.yml").string(), "--out", (tmp / "out").string()});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_THAT(r.err, HasSubstr("ca/ca-key.pem: missing, but its CA certificate"));
    EXPECT_THAT(r.err, HasSubstr("--force-new-ca"));
    EXPECT_EQ(slurp(tmp / "out/ca/ca.pem"), ca);
    r = cli({"provision", (tmp / "spec.yml").string(), "--out", (tmp / "out").string(), "--force-new-ca", "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(slurp(tmp / "out/ca/ca.pem"), ca);
    EXPECT_EQ(nlohmann::json::parse(r.out)["certificates_issued"], 10);
}

TEST(Provision, AFailedWriteLeavesNothingBehind) {
    TempDir tmp;
    spit(tmp / "spec.yml", kSpec);
    fs::create_directories(tmp / "out");
    spit(tmp / "out/n3", "a file where a folder must go");
    const RunResult r = cli({"provision", (tmp / "spec.yml").string(), "--out", (tmp / "out").string()});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_THAT(r.err, HasSubstr("cluster-config: error: "));
    for (const auto& e : fs::recursive_directory_iterator(tmp / "out"))
        if (e.is_regular_file()) {
            EXPECT_EQ(e.path(), tmp / "out/n3") << "left behind: " << e.path();
        }
}

TEST(Provision, SpecErrorsAreAllPrintedWithFileLineAndField) {
    TempDir tmp;
    spit(tmp / "spec.yml",
         "cluster: {name: x}\nnodes:\n  - {name: a, address: 10.0.0.999}\n  - {name: a, adress: 10.0.0.2}\n");
    const RunResult r = cli({"provision", (tmp / "spec.yml").string(), "--out", (tmp / "out").string()});
    EXPECT_EQ(r.exit_code, 1);
    const std::string s = (tmp / "spec.yml").string();
    EXPECT_THAT(r.err,
                HasSubstr("cluster-config: error: " + s + ":3: nodes[0].address: \"10.0.0.999\" is not a valid"));
    EXPECT_THAT(r.err, HasSubstr("cluster-config: error: " + s +
                                 ":4: nodes[1].adress: unknown key \"adress\" (did you mean \"address\"?)"));
    EXPECT_THAT(r.err,
                HasSubstr("cluster-config: error: " + s + ":4: nodes[1].name: \"a\" is already the name of nodes[0]"));
    EXPECT_THAT(r.err, HasSubstr("cluster-config: warning: " + s + ":3: nodes: 2 nodes"));
    EXPECT_FALSE(fs::exists(tmp / "out"));
    // With --json every problem is in the one JSON error object on stdout.
    const RunResult j = cli({"provision", s, "--out", (tmp / "out").string(), "--json"});
    EXPECT_EQ(j.exit_code, 1);
    const auto e = nlohmann::json::parse(j.out);
    EXPECT_EQ(e["code"], 14001);
    const std::string message = e["message"];
    EXPECT_THAT(message, HasSubstr(s + ":3: nodes[0].address: \"10.0.0.999\" is not a valid"));
    EXPECT_THAT(message, HasSubstr("; " + s + ":4: nodes[1].adress: unknown key"));
    EXPECT_THAT(message, HasSubstr("; " + s + ":4: nodes[1].name: \"a\" is already the name of nodes[0]"));
    EXPECT_THAT(j.err, Not(HasSubstr("error:"))) << j.err;
}

// revoke through the tool: --check says what and why and writes nothing; the run lists the serial in
// every node's CRL (as `openssl crl` reads it), records it, and re-issues the leaf; errors are one line.
TEST(Revoke, ChecksThenRevokesAndRefusesUnknownNamesAndCas) {
    TempDir tmp;
    spit(tmp / "spec.yml", kSpec);
    const std::string spec = (tmp / "spec.yml").string(), out = (tmp / "out").string();
    ASSERT_EQ(cli({"provision", spec, "--out", out}).exit_code, 0);
    const std::string serial =
        pki::Certificate::from_pem(slurp(tmp / "out/clients/admin/admin.pem"), "admin.pem").serial_decimal();
    const auto before = snapshot(tmp / "out");
    RunResult r = cli({"revoke", spec, "--out", out, "admin", "--check"});
    EXPECT_EQ(r.exit_code, 5) << r.err;
    EXPECT_NE(r.out.find("would update " + out + "/n2/ca-crl.pem (revokes admin (serial " + serial + "))"),
              std::string::npos)
        << r.out;
    EXPECT_EQ(snapshot(tmp / "out"), before) << "--check writes nothing";

    r = cli({"revoke", spec, "--out", out, "admin", "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(changed_files(nlohmann::json::parse(r.out)),
              (std::set<std::string>{"ca/ca-crl.pem", "n1/ca-crl.pem", "n2/ca-crl.pem", "n3/ca-crl.pem",
                                     "clients/admin/admin.pem", "clients/admin/admin-key.pem"}));
    const RunResult crl = run({"openssl", "crl", "-in", (tmp / "out/n3/ca-crl.pem").string(), "-noout", "-text"});
    ASSERT_EQ(crl.exit_code, 0) << crl.err;
    EXPECT_NE(crl.out.find("Serial Number: "), std::string::npos) << crl.out;
    const RunResult verify = run({"openssl", "crl", "-in", (tmp / "out/n3/ca-crl.pem").string(), "-noout", "-CAfile",
                                  (tmp / "out/n3/ca.pem").string()});
    EXPECT_EQ(verify.exit_code, 0) << "signed by the CA: " << verify.err;
    const auto manifest = nlohmann::json::parse(slurp(tmp / "out/.cluster-config.json"));
    EXPECT_EQ(manifest["revoked"]["ca"][0]["serial"], serial);
    EXPECT_EQ(manifest["revoked"]["ca"][0]["name"], "admin");
    EXPECT_EQ(cli({"provision", spec, "--out", out, "--check"}).exit_code, 0) << "provision keeps the revocation";

    r = cli({"revoke", spec, "--out", out, "n7-api"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("revoke n7-api: no leaf certificate of that name in the spec"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("(code 1106)"), std::string::npos) << r.err;
    r = cli({"revoke", spec, "--out", out, "ca"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("a CA cannot be revoked"), std::string::npos) << r.err;
    EXPECT_EQ(cli({"revoke", spec, "--out", out}).exit_code, 2) << "a NAME is required";
}

TEST(Cli, UsageErrorsExitTwoAndHelpTeaches) {
    EXPECT_EQ(cli({}).exit_code, 2);
    EXPECT_EQ(cli({"provision"}).exit_code, 2);
    EXPECT_EQ(cli({"provision", "x.yml"}).exit_code, 2);  // --out missing
    EXPECT_EQ(cli({"frobnicate"}).exit_code, 2);
    EXPECT_EQ(cli({"provision", "x.yml", "--out", "d", "--paths", "relative"}).exit_code, 1);  // missing spec first
    const RunResult help = cli({"provision", "--help"});
    EXPECT_EQ(help.exit_code, 0);
    EXPECT_THAT(help.out, HasSubstr("cluster-config provision examples/loopback-3.yml --out cluster"));
    for (const char* sub : {"render", "add-node", "lint"})
        EXPECT_THAT(cli({sub, "--help"}).out, HasSubstr("Examples:")) << sub;
}

TEST(Render, KeepsTheUsersFilesUnlessForced) {
    TempDir tmp;
    const std::string spec = source_path("examples/guide-10.0.0.yml").string();
    ASSERT_EQ(cli({"render", spec, "--out", tmp.path().string()}).exit_code, 0);
    spit(tmp / "backend-1/backend.yml", "# mine\n");
    RunResult r = cli({"render", spec, "--out", tmp.path().string()});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_THAT(r.err, HasSubstr("backend-1/backend.yml: content differs; changed by hand since cluster-config wrote "
                                 "it, kept (--force replaces it)"));
    EXPECT_EQ(slurp(tmp / "backend-1/backend.yml"), "# mine\n");
    r = cli({"render", spec, "--out", tmp.path().string(), "--force"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_THAT(slurp(tmp / "backend-1/backend.yml"), HasSubstr("etcd-name: \"backend-1\""));
    EXPECT_FALSE(fs::exists(tmp / "backend-1/backend-1.pem"));  // render issues no certificates
}

TEST(AddNode, IssuesTheNewNodeAndJoinsWithStateExisting) {
    TempDir tmp;
    spit(tmp / "spec.yml", kSpec);
    const std::string out = (tmp / "out").string();
    // Without a CA there is nothing to sign with.
    RunResult r =
        cli({"add-node", (tmp / "spec.yml").string(), "--name", "n4", "--address", "127.0.0.44", "--out", out});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_THAT(r.err, HasSubstr("run `cluster-config provision` first"));
    ASSERT_EQ(cli({"provision", (tmp / "spec.yml").string(), "--out", out}).exit_code, 0);
    const auto before = snapshot(tmp / "out");
    r = cli({"add-node", (tmp / "spec.yml").string(), "--name", "n4", "--address", "127.0.0.44", "--names",
             "n4.example.test", "--out", out, "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    for (const auto& f : changed_files(nlohmann::json::parse(r.out))) EXPECT_TRUE(f.starts_with("n4/")) << f;
    for (const auto& [path, v] : before)
        if (path != ".cluster-config.json") {
            EXPECT_EQ(snapshot(tmp / "out")[path], v) << path << " was touched";
        }
    const auto c =
        cluster::BackendConfig::from_yaml(slurp(tmp / "out/n4/backend.yml"), (tmp / "out/n4/backend.yml").string());
    EXPECT_EQ(c.get(cluster::Key::EtcdInitialClusterState), "existing");
    EXPECT_EQ(
        c.get(cluster::Key::EtcdInitialCluster),
        "n1=https://127.0.0.41:2380,n2=https://127.0.0.42:2380,n3=https://127.0.0.43:2380,n4=https://127.0.0.44:2380");
    EXPECT_EQ(c.get(cluster::Key::EtcdName), "n4");
    const RunResult lint = cli({"lint", (tmp / "out/n4").string()});
    EXPECT_EQ(lint.exit_code, 0) << lint.out;
    // Names and addresses already taken are refused.
    r = cli({"add-node", (tmp / "spec.yml").string(), "--name", "n2", "--address", "127.0.0.43", "--out", out});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_THAT(r.err, HasSubstr("already a node"));
    EXPECT_THAT(r.err, HasSubstr("already used by node n3"));
}

// Issue 13's docker layout: render --compose writes the guide's three backends (and an agent) as a compose
// file that Debian's docker-compose accepts (`config` validates it without a daemon); a layout that cannot
// be a docker network is refused in one line and nothing is written.
TEST(Compose, TheGuidesLayoutIsAValidComposeFileAndLoopbackIsRefused) {
    TempDir tmp;
    std::string spec = slurp(source_path("examples/guide-10.0.0.yml"));
    spec += "  - {name: agent, count: 1}\n";
    spit(tmp / "spec.yml", spec);
    const RunResult r = cli({"render", (tmp / "spec.yml").string(), "--out", (tmp / "out").string(), "--compose"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const std::string text = slurp(tmp / "out/docker-compose.yml");
    for (const std::string part :
         {"  backend-1:\n", "ipv4_address: 10.0.0.2", "\"./backend-3:/etc/trellis:ro\"", "subnet: 10.0.0.0/24",
          "gateway: 10.0.0.254", "  agent-1:\n", "\"./clients/agent-1:/etc/trellis/client:ro\"",
          "https://10.0.0.1:2379,https://10.0.0.2:2379,https://10.0.0.3:2379"})
        EXPECT_THAT(text, HasSubstr(part)) << text;
    const RunResult config = run(
        {"/usr/bin/docker-compose", "-f", (tmp / "out/docker-compose.yml").string(), "config", "-q"}, {}, tmp.path());
    EXPECT_EQ(config.exit_code, 0) << config.err << "\n" << text;
    const RunResult again =
        cli({"render", (tmp / "spec.yml").string(), "--out", (tmp / "out").string(), "--compose", "--check"});
    EXPECT_EQ(again.exit_code, 0) << "a second render changes nothing: " << again.out << again.err;

    spit(tmp / "loop.yml", kSpec);
    const RunResult loop = cli({"render", (tmp / "loop.yml").string(), "--out", (tmp / "loop").string(), "--compose"});
    EXPECT_EQ(loop.exit_code, 1);
    EXPECT_THAT(loop.err, HasSubstr("node n1 (127.0.0.41): a loopback address cannot be on a docker network"));
    EXPECT_EQ(std::count(loop.err.begin(), loop.err.end(), '\n'), 1) << loop.err;
    EXPECT_FALSE(fs::exists(tmp / "loop")) << "nothing may be written";
}

}  // namespace
}  // namespace trellis::testing
