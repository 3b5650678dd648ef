#include "cluster/lint.hpp"
#include <algorithm>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <set>

#include "cluster/provision.hpp"
#include "cluster/render.hpp"
#include "core/files.hpp"
#include "pki/issue.hpp"
#include "support.hpp"

namespace trellis::cluster {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using trellis::testing::TempDir;

// A provisioned full-mTLS cluster to break in one way per test.
class LintFiles : public ::testing::Test {
  protected:
    void SetUp() override {
        Warnings w;
        const Spec s = load_spec(
            "cluster: {name: l}\nnodes:\n  - {name: a, address: 127.0.0.71}\n  - {name: b, address: 127.0.0.72}\n"
            "  - {name: c, address: 127.0.0.73}\nclients:\n  - name: admin\n",
            "spec.yml", w);
        provision(s, tmp_.path(), {});
    }
    BackendConfig node(const std::string& name, const std::string& extra = "") {
        const fs::path p = tmp_ / (name + "/backend.yml");
        return BackendConfig::from_yaml(read_file(p) + extra, p.string());
    }
    std::set<std::string> codes(const BackendConfig& c, LintOptions o = {}) {
        std::set<std::string> out;
        for (const auto& f : lint_node(c, o)) out.insert(std::string(f.kind->code));
        return out;
    }
    TempDir tmp_;
};

TEST_F(LintFiles, ProvisionedNodeIsClean) {
    for (const char* n : {"a", "b", "c"}) {
        const auto f = lint_node(node(n));
        EXPECT_TRUE(f.empty()) << f.front().to_string();
    }
}

// (file, serial, expired) of each, in order: what two answers must agree on.
std::vector<std::string> expiry_rows(const std::vector<CertExpiry>& list) {
    std::vector<std::string> out;
    for (const auto& e : list) out.push_back(e.file + " " + e.serial + (e.expired ? " expired" : ""));
    return out;
}

TEST_F(LintFiles, ExpiryCacheAnswersAsAFreshReadAndSeesAReplacedCertificate) {
    const BackendConfig a = node("a");
    CertExpiryCache cache(a);
    const auto now = std::chrono::system_clock::now();
    const auto same = [&](std::chrono::hours window, std::chrono::system_clock::time_point at) {
        const auto fresh = expiry_rows(expiring_certificates(a, window, at));
        EXPECT_EQ(expiry_rows(cache.expiring(window, at)), fresh);
        return fresh.size();
    };
    EXPECT_EQ(same(std::chrono::hours(1), now), 0u);
    EXPECT_GT(same(kEveryDate, now), 3u);
    EXPECT_GT(same(std::chrono::hours(1), now + std::chrono::hours(24 * 365 * 50)), 3u);  // all expired by then

    // Renewed: another certificate renamed over the API's (node b's, another serial) is read again.
    const fs::path api_cert = a.get(Key::CertFile);
    fs::copy_file(node("b").get(Key::CertFile), tmp_ / "renewed.pem");
    const auto before = expiry_rows(cache.expiring(kEveryDate, now));
    fs::rename(tmp_ / "renewed.pem", api_cert);
    EXPECT_NE(expiry_rows(cache.expiring(kEveryDate, now)), before);
    same(kEveryDate, now);
}

TEST_F(LintFiles, CipherSuitesEtcdRefusesAreErrorsAndWeakOnesWarnings) {
    const auto findings = [&](const std::string& extra) {
        std::vector<std::string> out;
        for (const auto& f : lint_node(node("a", extra))) out.push_back(f.to_string());
        return out;
    };
    const auto weak = findings(
        "etcd-cipher-suites: [TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, "
        "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA]\n");
    ASSERT_EQ(weak.size(), 1u);
    EXPECT_THAT(weak[0],
                HasSubstr("L132 weak-cipher-suite: etcd-cipher-suites allows TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA"));
    const auto unknown = findings("etcd-cipher-suites: TLS_ECDHE_ECDSA_WITH_AES_128_GCM\n");
    ASSERT_EQ(unknown.size(), 1u);
    EXPECT_THAT(unknown[0],
                HasSubstr("L117 invalid-value: etcd-cipher-suites names \"TLS_ECDHE_ECDSA_WITH_AES_128_GCM\""));
    const auto version = findings("api-tls-min-version: \"1.1\"\n");
    ASSERT_EQ(version.size(), 1u);
    EXPECT_THAT(version[0], HasSubstr("api-tls-min-version is \"1.1\"; it must be 1.2 or 1.3"));
    EXPECT_TRUE(findings("api-tls-min-version: \"1.3\"\n").empty());
}

TEST_F(LintFiles, KeyOfAnotherCertificate) {
    auto c = node("a");
    c.set(Key::EtcdKeyFile, {(tmp_ / "b/b-key.pem").string()}, Origin{"flag --etcd-key-file"});
    EXPECT_TRUE(codes(c).contains("L106"));
}

TEST_F(LintFiles, KeyReadableByOthers) {
    fs::permissions(tmp_ / "a/a-key.pem", fs::perms(0644));
    const auto f = lint_node(node("a"));
    ASSERT_EQ(f.size(), 1u);  // etcd-key-file only: the API has a key of its own (a-api-key.pem)
    EXPECT_EQ(f[0].kind->name, "key-permissions");
    EXPECT_THAT(f[0].to_string(), HasSubstr("backend.yml:"));
    EXPECT_THAT(f[0].message, HasSubstr("mode 0644"));
}

// The spec's owner: with mode: group writes keys 0640 root:GROUP; lint takes exactly that, nothing looser.
TEST_F(LintFiles, AKeyOfRootAndOneGroupIsFineAndNothingLooser) {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root to give a key away";
    const fs::path key = tmp_ / "a/a-key.pem";
    struct Case {
        uid_t uid;
        gid_t gid;
        mode_t mode;
        bool ok;
    };
    for (const Case c : {Case{0, 65534, 0640, true}, Case{0, 65534, 0440, true}, Case{65534, 65534, 0600, true},
                         Case{65534, 65534, 0640, false}, Case{0, 0, 0640, false}, Case{0, 65534, 0660, false},
                         Case{0, 65534, 0644, false}, Case{0, 65534, 0650, false}}) {
        ASSERT_EQ(::chown(key.c_str(), c.uid, c.gid), 0);
        ASSERT_EQ(::chmod(key.c_str(), c.mode), 0);
        const auto f = lint_node(node("a"));
        const bool flagged = std::any_of(f.begin(), f.end(), [](const Finding& x) { return x.kind->code == "L115"; });
        EXPECT_EQ(flagged, !c.ok) << c.uid << ":" << c.gid << " " << std::oct << c.mode;
    }
}

TEST_F(LintFiles, CertificateOfAnotherCaFailsBothStacks) {
    TempDir other;
    Warnings w;
    provision(load_spec("cluster: {name: o}\nnodes:\n  - {name: a, address: 127.0.0.71}\n", "o.yml", w), other.path(),
              {});
    auto c = node("a");
    c.set(Key::EtcdCertFile, {(other / "a/a.pem").string()}, Origin{"flag"});
    c.set(Key::EtcdKeyFile, {(other / "a/a-key.pem").string()}, Origin{"flag"});
    const auto f = lint_node(c);
    ASSERT_EQ(f.size(), 1u);
    EXPECT_EQ(f[0].kind->code, "L107");
    EXPECT_THAT(f[0].message, HasSubstr("OpenSSL: "));
    EXPECT_THAT(f[0].message, HasSubstr("Botan: "));
}

TEST_F(LintFiles, ExpiredAndExpiring) {
    LintOptions o;
    o.now = std::chrono::system_clock::now() + std::chrono::hours(24 * 400);
    EXPECT_TRUE(codes(node("a"), o).contains("L108"));
    o.now = std::chrono::system_clock::now() + std::chrono::hours(8760 - 24 * 10);
    const auto c = codes(node("a"), o);
    EXPECT_TRUE(c.contains("L109"));
    EXPECT_FALSE(c.contains("L108"));
}

// Every node's CRLs (crl-file, etcd-client-crl-file, etcd-peer-crl-file) are one year from their
// nextUpdate when provisioned: near it is a warning, past it an error (the API then refuses every client).
TEST_F(LintFiles, CrlNearOrPastItsNextUpdate) {
    LintOptions o;
    o.now = std::chrono::system_clock::now() + std::chrono::hours(8760 - 24 * 10);
    std::vector<std::string> messages;
    for (const auto& f : lint_node(node("a"), o))
        if (f.kind->code == "L134") messages.push_back(f.to_string());
    ASSERT_EQ(messages.size(), 2u) << "ca-crl.pem once (two keys name it), peer-ca-crl.pem once";
    EXPECT_THAT(messages[0], HasSubstr("ca-crl.pem: the CRL's next update is due on"));
    o.now = std::chrono::system_clock::now() + std::chrono::hours(8760 + 24);
    EXPECT_TRUE(codes(node("a"), o).contains("L133"));
    EXPECT_FALSE(codes(node("a"), o).contains("L134"));
    trellis::testing::spit(tmp_ / "a/peer-ca-crl.pem", "not a CRL");
    EXPECT_TRUE(codes(node("a")).contains("L116"));
}

TEST_F(LintFiles, SanNotCoveringTheAdvertisedHost) {
    auto c = node("a");
    c.set(Key::EtcdAdvertiseClientUrls, {"https://127.0.0.99:2379"}, Origin{"flag"});
    const auto f = lint_node(c);
    ASSERT_FALSE(f.empty());
    EXPECT_EQ(f[0].kind->code, "L104");
    EXPECT_THAT(f[0].message, HasSubstr("does not cover 127.0.0.99"));
}

TEST_F(LintFiles, ClientCertAsServerOrPeerCert) {
    auto c = node("a");
    c.set(Key::EtcdPeerCertFile, {(tmp_ / "clients/admin/admin.pem").string()}, Origin{"flag"});
    c.set(Key::EtcdPeerKeyFile, {(tmp_ / "clients/admin/admin-key.pem").string()}, Origin{"flag"});
    const auto got = codes(c);
    EXPECT_TRUE(got.contains("L105"));  // no serverAuth
    EXPECT_TRUE(got.contains("L104"));  // no SANs at all
    EXPECT_TRUE(got.contains("L126"));  // loopback peer without 127.0.0.1
    EXPECT_TRUE(got.contains("L107"));  // and the peer CA did not sign it
}

TEST_F(LintFiles, MissingFileAndCaKeyInTheNodeFolder) {
    fs::remove(tmp_ / "b/b-peer.pem");
    EXPECT_TRUE(codes(node("b")).contains("L116"));
    fs::copy_file(tmp_ / "ca/ca-key.pem", tmp_ / "c/ca-key.pem");
    EXPECT_TRUE(codes(node("c")).contains("L123"));
}

TEST_F(LintFiles, SharedPeerCaAndTrustedCaWithoutAuth) {
    auto c = node("a");
    c.set(Key::EtcdPeerTrustedCaFile, {(tmp_ / "a/ca.pem").string()}, Origin{"flag"});
    c.set(Key::EtcdClientCertAuth, {"false"}, Origin{"flag"});
    const auto got = codes(c);
    EXPECT_TRUE(got.contains("L120"));
    EXPECT_TRUE(got.contains("L119"));
}

TEST_F(LintFiles, InitialClusterMustNameThisMember) {
    auto c = node("a");
    c.set(Key::EtcdInitialCluster, {"b=https://127.0.0.72:2380", "c=https://127.0.0.73:2380"}, Origin{"flag"});
    EXPECT_TRUE(codes(c).contains("L110"));
    c.set(Key::EtcdInitialCluster, {"a=https://127.0.0.99:2380"}, Origin{"flag"});
    EXPECT_TRUE(codes(c).contains("L110"));
    c.set(Key::EtcdInitialCluster, {"a-https://127.0.0.71:2380"}, Origin{"flag"});
    EXPECT_TRUE(codes(c).contains("L117"));
    c = node("a");
    c.set(Key::EtcdAdvertiseClientUrls, {"https://0.0.0.0:2379"}, Origin{"flag"});
    LintOptions no_files;
    no_files.check_files = false;
    EXPECT_TRUE(codes(c, no_files).contains("L122"));
}

// node's backend.yml without the lines starting with any of `drop`, plus `extra`.
std::string without_lines(const std::string& text, const std::vector<std::string>& drop, const std::string& extra) {
    std::string out;
    std::size_t start = 0;
    for (std::size_t nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1) {
        const std::string line = text.substr(start, nl - start + 1);
        if (std::none_of(drop.begin(), drop.end(), [&](const std::string& d) { return line.starts_with(d); }))
            out += line;
    }
    return out + extra;
}

TEST_F(LintFiles, ApiWithoutTrustedCaLetsAnyClientIn) {
    auto c = node("a");
    c.set(Key::TrustedCaFile, {""}, Origin{"flag --trusted-ca-file"});
    const auto f = lint_node(c);
    ASSERT_EQ(f.size(), 1u) << f.front().to_string();
    EXPECT_EQ(f[0].kind->code, "L121");
    EXPECT_EQ(f[0].kind->severity, Severity::Warning);
    EXPECT_THAT(f[0].to_string(), HasSubstr("backend.yml:15: L121 no-client-auth: the API has cert-file but no "
                                            "trusted-ca-file: it accepts clients without certificates"));
}

// etcd over TLS without client-cert auth gets no trusted CA; the backend then needs one of its own.
TEST_F(LintFiles, HttpsStoreWithoutACaForTheBackendIsAnError) {
    auto c = node("a");
    c.set(Key::EtcdTrustedCaFile, {""}, Origin{"flag --etcd-trusted-ca-file"});
    c.set(Key::EtcdClientCertAuth, {"false"}, Origin{"flag --etcd-client-cert-auth"});
    auto f = lint_node(c);
    const auto l131 = std::find_if(f.begin(), f.end(), [](const Finding& x) { return x.kind->code == "L131"; });
    ASSERT_NE(l131, f.end()) << (f.empty() ? "no findings" : f.front().to_string());
    EXPECT_EQ(l131->kind->severity, Severity::Error);
    EXPECT_THAT(l131->message, HasSubstr("the backend has no CA to verify etcd with"));
    // Its own CA, which etcd never sees, is the fix.
    c.set(Key::EtcdClientTrustedCaFile, {(tmp_ / "a" / "ca.pem").string()},
          Origin{"flag --etcd-client-trusted-ca-file"});
    f = lint_node(c);
    EXPECT_TRUE(std::none_of(f.begin(), f.end(), [](const Finding& x) { return x.kind->code == "L131"; }));
    EXPECT_EQ(c.etcd_client_trusted_ca_file(), (tmp_ / "a" / "ca.pem").string());
}

TEST_F(LintFiles, PlainApiBesideHttpsEtcdIsWarned) {
    const fs::path p = tmp_ / "a/backend.yml";
    const std::string text = without_lines(read_file(p), {"cert-file:", "key-file:", "trusted-ca-file:", "api-url:"},
                                           "api-url: http://127.0.0.71:8080\napi-insecure: true\n");
    const auto f = lint_node(BackendConfig::from_yaml(text, p.string()));
    ASSERT_EQ(f.size(), 1u) << f.front().to_string();
    EXPECT_EQ(f[0].kind->code, "L128");
    EXPECT_EQ(f[0].kind->severity, Severity::Warning);
    EXPECT_THAT(f[0].message, HasSubstr("api-insecure is true while etcd's client URLs are https"));
    // A layout that is plain http throughout says api-insecure and lints clean of it.
    Warnings w;
    const Spec plain =
        load_spec("cluster: {name: p}\nsecurity: insecure\nnodes:\n  - {name: a, address: 10.0.0.1}\n", "plain.yml", w);
    const auto files = render_cluster(plain, {});
    const auto rendered = BackendConfig::from_yaml(files.front().content, "a/backend.yml");
    ASSERT_TRUE(rendered.get_bool(Key::ApiInsecure));
    LintOptions no_files;
    no_files.check_files = false;
    EXPECT_TRUE(lint_node(rendered, no_files).empty()) << lint_node(rendered, no_files).front().to_string();
}

TEST_F(LintFiles, WildcardSanNamesNoHostAndListenHostsMustBeCovered) {
    // A node certificate issued as the guide asks ("...,127.0.0.1,::") by our CA.
    Warnings w;
    const auto policy = pki::parse_signing_policy(
        R"({"signing":{"default":{"expiry":"8760h","usages":["signing","key encipherment","server auth","client auth"]}}})",
        "ca-config.json");
    const auto signer = pki::Signer::load((tmp_ / "ca/ca.pem").string(), (tmp_ / "ca/ca-key.pem").string());
    const auto request = pki::parse_certificate_request(
        R"({"CN":"a","hosts":["127.0.0.71","127.0.0.1","::"],"key":{"algo":"ecdsa","size":256}})", "a.json", w);
    const auto issued = pki::issue(request, signer, policy.default_profile, {}, w);
    write_file_atomic(tmp_ / "a/guide-a.pem", issued.cert, kPublicMode);
    write_file_atomic(tmp_ / "a/guide-a-key.pem", issued.key, kSecretMode);
    auto c = node("a");
    c.set(Key::EtcdCertFile, {(tmp_ / "a/guide-a.pem").string()}, Origin{"flag --etcd-cert-file"});
    c.set(Key::EtcdKeyFile, {(tmp_ / "a/guide-a-key.pem").string()}, Origin{"flag --etcd-key-file"});
    auto f = lint_node(c);
    ASSERT_EQ(f.size(), 1u) << f.front().to_string();
    EXPECT_EQ(f[0].kind->code, "L129");
    EXPECT_THAT(f[0].message, HasSubstr("guide-a.pem (a) has SANs that name no host (IP ::)"));

    // Listening on an address the certificate does not cover is L104 even when the advertised one is.
    c = node("a");
    c.set(Key::EtcdListenClientUrls, {"https://127.0.0.71:2379", "https://127.0.0.74:2379"}, Origin{"flag"});
    f = lint_node(c);
    ASSERT_EQ(f.size(), 1u) << f.front().to_string();
    EXPECT_EQ(f[0].kind->code, "L104");
    EXPECT_THAT(f[0].message, HasSubstr("does not cover 127.0.0.74 (etcd-listen-client-urls)"));
}

TEST_F(LintFiles, ClusterChecks) {
    std::vector<BackendConfig> configs{node("a"), node("b"), node("c")};
    EXPECT_TRUE(lint_cluster(configs).empty());
    configs[2].set(Key::EtcdAdvertiseClientUrls, {"https://127.0.0.72:2379"}, Origin{"flag"});
    configs[2].set(Key::EtcdInitialCluster, {"a=https://127.0.0.71:2380"}, Origin{"flag"});
    std::set<std::string> got;
    for (const auto& f : lint_cluster(configs)) got.insert(std::string(f.kind->code));
    EXPECT_EQ(got, (std::set<std::string>{"L111", "L113"}));
}

// A node that joined later (state existing) lists the bootstrap members plus itself: no L111 for the
// extra entry, but L111 when it leaves a bootstrap member out.
TEST_F(LintFiles, AJoinedNodeMayListMoreMembersNeverFewer) {
    std::vector<BackendConfig> configs{node("a"), node("b"), node("c")};
    std::vector<std::string> initial = configs[0].get_list(Key::EtcdInitialCluster);
    initial.push_back("d=https://127.0.0.74:2380");
    configs[2].set(Key::EtcdInitialClusterState, {"existing"}, Origin{"flag"});
    configs[2].set(Key::EtcdInitialCluster, initial, Origin{"flag"});
    EXPECT_TRUE(lint_cluster(configs).empty()) << lint_cluster(configs).front().to_string();
    configs[2].set(Key::EtcdInitialCluster, {"c=https://127.0.0.73:2380"}, Origin{"flag"});
    const auto f = lint_cluster(configs);
    ASSERT_EQ(f.size(), 1u);
    EXPECT_EQ(f[0].kind->code, "L111");
    EXPECT_THAT(f[0].message, HasSubstr("-a=https://127.0.0.71:2380"));
    EXPECT_THAT(f[0].message, HasSubstr("a member that joins lists every bootstrap member"));
}

TEST(LintKinds, TableIsStableAndDocumented) {
    std::set<std::string_view> codes, names;
    const std::string doc = trellis::testing::slurp(trellis::testing::source_path("docs/lint.md"));
    for (const auto& k : finding_kinds()) {
        EXPECT_TRUE(codes.insert(k.code).second) << k.code;
        EXPECT_TRUE(names.insert(k.name).second) << k.name;
        EXPECT_EQ(find_finding_kind(k.code), &k);
        EXPECT_EQ(find_finding_kind(k.name), &k);
        // The enum is the code: Lint::SchemeMismatch is L101, and finding_kind() finds it back.
        EXPECT_EQ(k.code, "L" + std::to_string(static_cast<int>(k.id))) << k.name;
        EXPECT_EQ(&finding_kind(k.id), &k);
        EXPECT_THAT(doc, HasSubstr("| " + std::string(k.code) + " | `" + std::string(k.name) + "` |"))
            << "docs/lint.md lacks " << k.code;
    }
    EXPECT_EQ(find_finding_kind("L101")->name, "scheme-mismatch");
}

TEST(LintPolicy, GuideCaConfigLacksItsProfiles) {
    const auto f = lint_signing_policy(
        R"({"signing":{"default":{"expiry":"43800h","usages":["signing","key encipherment","server auth","client auth"]}}})",
        "ca-config.json");
    ASSERT_EQ(f.size(), 2u);
    EXPECT_EQ(f[0].to_string().substr(0, 36), "ca-config.json: L118 missing-profile");
    EXPECT_EQ(lint_signing_policy("{", "x.json").front().kind->code, "L125");
}

}  // namespace
}  // namespace trellis::cluster
