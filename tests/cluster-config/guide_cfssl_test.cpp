// The guide's flow through the REAL cfssl: its certificate script run with Debian's
// /usr/bin/cfssl and cfssljson, the certificates put where the guide puts them, its
// client-cert-auth backend.yml for backend-1 written against them, and `cluster-config
// lint` must report what a careful operator would want to hear, finding by finding.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <regex>

#include <nlohmann/json.hpp>

#include "support.hpp"

namespace trellis::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

// tests/data/certgen/guide-cfssl.sh with the tools named by their Debian paths, so no other
// cfssl on PATH (or certgen standing in for it) can take their place.
std::string guide_script_with_debian_cfssl() {
    std::string script = slurp(data_path("certgen/guide-cfssl.sh"));
    script = std::regex_replace(script, std::regex("cfssljson"), "/usr/bin/cfssljson");
    return std::regex_replace(script, std::regex("cfssl gencert"), "/usr/bin/cfssl gencert");
}

// The guide's paths (/etc/sensu/..., /usr/local/share/...) moved under `root`.
std::string under(const fs::path& root, const std::string& text) {
    std::string out = std::regex_replace(text, std::regex("\"/etc/sensu/"), "\"" + (root / "etc/sensu/").string());
    return std::regex_replace(out, std::regex("\"/usr/local/share/"), "\"" + (root / "usr/local/share/").string());
}

class GuideWithCfssl : public ::testing::Test {
  protected:
    void SetUp() override {
        ASSERT_TRUE(fs::exists("/usr/bin/cfssl") && fs::exists("/usr/bin/cfssljson")) << "Debian's cfssl is missing";
        const fs::path work = tmp / "work";
        fs::create_directories(work);
        const RunResult r = run({"bash", "-euo", "pipefail", "-c", guide_script_with_debian_cfssl()}, {}, work, 300);
        ASSERT_EQ(r.exit_code, 0) << r.err;

        // "assumes your client certificates are in /etc/sensu/certs/ and your CA certificate is in
        // /usr/local/share/ca-certificates/sensu/"; the peer example names backend-1.pem there too.
        const fs::path certs = tmp / "etc/sensu/certs", ca = tmp / "usr/local/share/ca-certificates/sensu";
        fs::create_directories(certs);
        fs::create_directories(ca);
        for (const char* f : {"backend-1.pem", "backend-1-key.pem", "client.pem", "client-key.pem"})
            fs::copy_file(work / f, certs / f);  // keeps cfssljson's modes (keys 0600)
        fs::copy_file(work / "ca.pem", ca / "ca.pem");

        // backend-1 with the guide's peer section (store and peer TLS) and its client-cert-auth snippet.
        config = tmp / "etc/sensu/backend.yml";
        spit(config, under(tmp.path(), slurp(data_path("cluster-config/guide/peer-tls/backend-1.yml")) + "\n" +
                                           slurp(data_path("cluster-config/guide/client-cert-auth/backend.yml"))));
        ca_config = work / "ca-config.json";
    }

    TempDir tmp;
    fs::path config, ca_config;
};

TEST_F(GuideWithCfssl, LintReportsWhatACarefulOperatorExpects) {
    const RunResult r = run(
        {build_path("cluster-config/cluster-config").string(), "lint", "--json", config.string(), ca_config.string()},
        {}, {}, 60);
    ASSERT_EQ(r.exit_code, 1) << r.out << r.err;
    const auto doc = nlohmann::json::parse(r.out);
    std::multimap<std::string, std::string> got;  // code -> message, for the exact set
    std::string listing;
    for (const auto& f : doc["findings"]) {
        got.emplace(f["code"].get<std::string>(), f["message"].get<std::string>());
        listing += f["code"].get<std::string>() + " " + f["file"].get<std::string>() + ": " +
                   f["message"].get<std::string>() + "\n";
    }
    SCOPED_TRACE(listing);

    std::map<std::string, std::size_t> counts;
    for (const auto& [code, _] : got) ++counts[code];
    EXPECT_EQ(counts, (std::map<std::string, std::size_t>{
                          // The peer example sets only etcd-listen-client-urls (https); etcd would advertise
                          // its http default.
                          {"L101", 1},
                          // client.pem, a client certificate, serves the client port: it covers neither the
                          // listen host 10.0.0.1 nor the advertised (default) 127.0.0.1.
                          {"L104", 2},
                          // "hosts":[""] gives client.pem an empty DNS SAN; -hostname "...,::" gives
                          // backend-1.pem the unspecified address.
                          {"L129", 2},
                          // One CA for clients and peers: any client certificate is a peer.
                          {"L120", 1},
                          // -profile=peer and -profile=client name profiles ca-config.json lacks.
                          {"L118", 2},
                          // The guide gives the backend API no certificate and no api-insecure.
                          {"L130", 1},
                      }));

    const auto messages = [&](const std::string& code) {
        std::string all;
        for (auto [it, end] = got.equal_range(code); it != end; ++it) all += it->second + "\n";
        return all;
    };
    EXPECT_THAT(messages("L101"), HasSubstr("etcd-advertise-client-urls uses http (its default) but "
                                            "etcd-listen-client-urls uses https"));
    EXPECT_THAT(messages("L104"), HasSubstr("client.pem does not cover 10.0.0.1 (etcd-listen-client-urls)"));
    EXPECT_THAT(messages("L104"), HasSubstr("client.pem does not cover 127.0.0.1 (etcd-advertise-client-urls)"));
    EXPECT_THAT(messages("L129"), HasSubstr("client.pem (client) has SANs that name no host (an empty DNS name)"));
    EXPECT_THAT(messages("L129"), HasSubstr("backend-1.pem (backend-1) has SANs that name no host (IP ::)"));
    EXPECT_THAT(messages("L118"), HasSubstr("`-profile=peer` silently falls back to the default profile"));
    EXPECT_THAT(messages("L118"), HasSubstr("`-profile=client` silently falls back to the default profile"));
    // cfssl's fallback is also why the client certificate carries serverAuth: it passes L105, and the
    // chain, key pairs and key modes (cfssljson writes keys 0600) are sound.
    for (const char* clean : {"L105", "L106", "L107", "L115", "L116", "L123"}) EXPECT_EQ(got.count(clean), 0u) << clean;
}

}  // namespace
}  // namespace trellis::testing
