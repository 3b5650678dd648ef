// The API's TLS reloader on its own: a changed certificate/key pair is taken, an unchanged one
// is not re-read, a half-replaced pair is refused (the old one stays) and taken once whole.
#include "tls_reload.hpp"

#include <gtest/gtest.h>

#include <filesystem>

#include "core/error.hpp"
#include "core/files.hpp"
#include "pki/certificate.hpp"
#include "support.hpp"
#include "test_pki.hpp"

namespace trellis::testing {
namespace {

namespace fs = std::filesystem;
using backend::TlsFiles;
using backend::TlsReloader;

std::string serial_of(const fs::path& cert) {
    return pki::Certificate::from_pem(read_file(cert), cert.string()).serial_decimal();
}

// Replaces `to` by `from` with a rename, as cluster-config writes files.
void replace(const fs::path& from, const fs::path& to) { fs::rename(from, to); }

struct Files {
    TempDir dir;
    TestCa ca = make_test_ca(dir.path(), "ca");
    TestPair served = issue_test_cert(ca, dir.path(), "api", {"127.0.0.1"}, "serverAuth");
    TlsFiles files() const { return {served.cert.string(), served.key.string(), ca.cert.string(), {}}; }
};

TEST(TlsReloader, TakesAReplacedPairAndOnlyThen) {
    Files f;
    TlsReloader reloader(f.files());
    const std::string first = serial_of(f.served.cert);
    EXPECT_EQ(reloader.serial(), first);
    EXPECT_FALSE(reloader.refresh()) << "nothing changed, nothing to reload";

    const auto renewed = issue_test_cert(f.ca, f.dir.path(), "renewed", {"127.0.0.1"}, "serverAuth");
    const std::string second = serial_of(renewed.cert);
    ASSERT_NE(first, second);
    replace(renewed.key, f.served.key);
    replace(renewed.cert, f.served.cert);
    EXPECT_TRUE(reloader.refresh());
    EXPECT_EQ(reloader.serial(), second);
    EXPECT_FALSE(reloader.refresh());
}

TEST(TlsReloader, KeepsServingWhileThePairIsHalfReplaced) {
    Files f;
    TlsReloader reloader(f.files());
    const std::string first = reloader.serial();
    const auto renewed = issue_test_cert(f.ca, f.dir.path(), "renewed", {"127.0.0.1"}, "serverAuth");

    replace(renewed.cert, f.served.cert);  // the key is still the old one
    EXPECT_FALSE(reloader.refresh());
    EXPECT_EQ(reloader.serial(), first);
    EXPECT_FALSE(reloader.refresh()) << "a refused set is not re-read until something changes again";

    replace(renewed.key, f.served.key);
    EXPECT_TRUE(reloader.refresh());
    EXPECT_EQ(reloader.serial(), serial_of(f.served.cert));
}

TEST(TlsReloader, ABadCrlIsRefusedAtStartAndKeptOutLater) {
    Files f;
    auto files = f.files();
    files.crl_file = (f.dir / "ca.crl").string();
    spit(f.dir / "ca.crl", "not a CRL");
    try {
        TlsReloader reloader(files);
        FAIL() << "a CRL that does not parse must stop the start";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), Code::TlsFailed);
        EXPECT_NE(std::string(e.what()).find(files.crl_file), std::string::npos) << e.what();
    }
}

TEST(TlsReloader, AKeyOfAnotherCertificateIsRefusedAtStart) {
    Files f;
    const auto other = issue_test_cert(f.ca, f.dir.path(), "other", {"127.0.0.1"}, "serverAuth");
    auto files = f.files();
    files.key_file = other.key.string();
    EXPECT_THROW(TlsReloader{files}, Error);
}

TEST(FileStamp, ChangesWithARenameOverTheFile) {
    TempDir dir;
    spit(dir / "a", "one");
    const auto before = trellis::stamp_of((dir / "a").string());
    EXPECT_EQ(before, trellis::stamp_of((dir / "a").string()));
    spit(dir / "b", "two");
    fs::rename(dir / "b", dir / "a");
    EXPECT_NE(before, trellis::stamp_of((dir / "a").string()));
    EXPECT_EQ(trellis::stamp_of((dir / "missing").string()).size, -1);
}

}  // namespace
}  // namespace trellis::testing
