// The public API's spec, provisioning and lint, used through include/trellis/ only.
#include <gtest/gtest.h>

#include <algorithm>
#include <trellis/trellis.hpp>

#include "support.hpp"

namespace {

namespace fs = std::filesystem;

const std::string kSpec =
    "cluster: {name: lib}\nnodes:\n  - {name: a, address: 127.0.0.191}\n  - {name: b, address: 127.0.0.192}\n"
    "  - {name: c, address: 127.0.0.193}\nclients:\n  - name: admin\n";

TEST(PublicApi, SpecParsesAndNamesItsProblems) {
    trellis::Warnings warnings;
    const auto spec = trellis::ClusterSpec::parse(kSpec, "spec.yml", warnings);
    EXPECT_EQ(spec.name(), "lib");
    ASSERT_EQ(spec.nodes().size(), 3u);
    EXPECT_EQ(spec.nodes()[1].name, "b");
    EXPECT_EQ(spec.nodes()[1].address, "127.0.0.192");
    EXPECT_EQ(spec.nodes()[1].client_port, 2379);
    EXPECT_EQ(spec.clients(), std::vector<std::string>{"admin"});
    EXPECT_FALSE(spec.security().empty());
    try {
        trellis::ClusterSpec::parse("cluster: {name: x}\nnodes:\n  - {name: a, address: 127.0.0.191, bogus: 1}\n",
                                    "bad.yml", warnings);
        FAIL() << "an unknown key was accepted";
    } catch (const trellis::Error& e) {
        EXPECT_EQ(e.code(), trellis::Code::SpecInvalid);
        EXPECT_NE(std::string(e.what()).find("bad.yml:3"), std::string::npos) << e.what();
    }
}

TEST(PublicApi, ProvisionThenLintIsCleanAndIdempotent) {
    trellis::testing::TempDir out;
    trellis::Warnings warnings;
    const auto spec = trellis::ClusterSpec::parse(kSpec, "spec.yml", warnings);
    const auto check = trellis::provision(spec, out.path(), {.check = true});
    EXPECT_TRUE(check.changed);
    EXPECT_FALSE(fs::exists(out / "a" / "backend.yml")) << "--check wrote files";
    const auto first = trellis::provision(spec, out.path());
    EXPECT_TRUE(first.changed);
    EXPECT_GE(first.certificates_issued, 4u);
    EXPECT_TRUE(std::any_of(first.files.begin(), first.files.end(), [](const trellis::FileChange& f) {
        return f.path == fs::path("a/backend.yml") && f.action == trellis::FileAction::Create;
    }));
    const auto again = trellis::provision(spec, out.path());
    EXPECT_FALSE(again.changed);
    EXPECT_EQ(again.certificates_issued, 0u);

    // A hand edit is a Conflict: reported by check, refused by provision, replaced only with force.
    const std::string rendered = trellis::testing::slurp(out / "a/backend.yml");
    trellis::testing::spit(out / "a/backend.yml", rendered + "# edited by hand\n");
    const auto conflict = trellis::provision(spec, out.path(), {.check = true});
    EXPECT_TRUE(std::any_of(conflict.files.begin(), conflict.files.end(), [](const trellis::FileChange& f) {
        return f.path == fs::path("a/backend.yml") && f.action == trellis::FileAction::Conflict;
    }));
    try {
        trellis::provision(spec, out.path());
        ADD_FAILURE() << "a file changed by hand was replaced without force";
    } catch (const trellis::Error& e) {
        EXPECT_EQ(e.code(), trellis::Code::FileExists) << e.what();
    }
    EXPECT_NE(trellis::testing::slurp(out / "a/backend.yml"), rendered);
    EXPECT_TRUE(trellis::provision(spec, out.path(), {.force = true}).changed);
    EXPECT_EQ(trellis::testing::slurp(out / "a/backend.yml"), rendered);

    const auto findings =
        trellis::lint_backend_configs({out / "a/backend.yml", out / "b/backend.yml", out / "c/backend.yml"});
    for (const auto& f : findings) EXPECT_NE(f.severity, trellis::Severity::Error) << f.text;

    trellis::testing::spit(out / "a/backend.yml",
                           "etcd-name: a\netcd-listen-client-urls: http://127.0.0.191:2379\n"
                           "etcd-advertise-client-urls: https://127.0.0.191:2379\n");
    const auto broken = trellis::lint_backend_configs({out / "a/backend.yml"}, {.check_files = false});
    ASSERT_TRUE(std::any_of(broken.begin(), broken.end(), [](const auto& f) { return f.code == "L101"; }));
    const auto& f = *std::find_if(broken.begin(), broken.end(), [](const auto& f) { return f.code == "L101"; });
    EXPECT_EQ(f.name, "scheme-mismatch");
    EXPECT_EQ(f.severity, trellis::Severity::Error);
    EXPECT_NE(f.text.find("backend.yml:"), std::string::npos) << f.text;
}

}  // namespace
