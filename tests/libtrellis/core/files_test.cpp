#include "core/files.hpp"

#include <sys/stat.h>

#include <gtest/gtest.h>
#include <cstdlib>

#include "core/error.hpp"
#include "support.hpp"

namespace fs = std::filesystem;
using trellis::testing::slurp;
using trellis::testing::TempDir;

namespace trellis {

static mode_t mode_of(const fs::path& p) {
    struct stat st {};
    ::stat(p.c_str(), &st);
    return st.st_mode & 07777;
}

TEST(Files, AtomicWriteSetsExactModeWhateverTheUmask) {
    TempDir dir;
    const mode_t old = ::umask(0);  // the widest umask: mode must still be 0600
    write_file_atomic(dir / "key.pem", "secret", kSecretMode);
    ::umask(077);  // the narrowest: certs must still be 0644
    write_file_atomic(dir / "cert.pem", "public", kPublicMode);
    ::umask(old);
    EXPECT_EQ(mode_of(dir / "key.pem"), 0600u);
    EXPECT_EQ(mode_of(dir / "cert.pem"), 0644u);
    EXPECT_EQ(slurp(dir / "key.pem"), "secret");
}

TEST(Files, AtomicWriteReplacesAndLeavesNoTemp) {
    TempDir dir;
    write_file_atomic(dir / "a", "one", kPublicMode);
    write_file_atomic(dir / "a", "two", kPublicMode);
    EXPECT_EQ(slurp(dir / "a"), "two");
    EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 1);
}

TEST(Files, FailedWriteKeepsOldFile) {
    TempDir dir;
    write_file_atomic(dir / "a", "keep", kPublicMode);
    EXPECT_THROW(write_file_atomic(dir / "missing-dir" / "a", "x", kPublicMode), Error);
    EXPECT_EQ(slurp(dir / "a"), "keep");
}

TEST(Files, FileSetRefusesToClobberDifferentContent) {
    TempDir dir;
    write_file_atomic(dir / "b.pem", "theirs", kPublicMode);
    FileSet set;
    set.add(dir / "a.pem", "new", kPublicMode);
    set.add(dir / "b.pem", "ours", kPublicMode);
    try {
        set.commit(/*overwrite=*/false);
        FAIL() << "expected FileExists";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), Code::FileExists);
        EXPECT_NE(std::string(e.what()).find("b.pem"), std::string::npos);
    }
    EXPECT_FALSE(fs::exists(dir / "a.pem")) << "nothing may be half-written";
    EXPECT_EQ(slurp(dir / "b.pem"), "theirs");
}

TEST(Files, FileSetCreatesDirectoriesAndModes) {
    TempDir dir;
    FileSet set;
    set.add(dir / "node" / "k.pem", "k", kSecretMode);
    set.add(dir / "node" / "c.pem", "c", kPublicMode);
    set.commit();
    EXPECT_EQ(mode_of(dir / "node" / "k.pem"), 0600u);
    EXPECT_EQ(mode_of(dir / "node" / "c.pem"), 0644u);
}

TEST(Files, ReadSourceUnderstandsEnvAndFilePrefixes) {
    TempDir dir;
    write_file_atomic(dir / "x", "from-file", kPublicMode);
    ::setenv("TRELLIS_TEST_SOURCE", "from-env", 1);
    EXPECT_EQ(read_source("env:TRELLIS_TEST_SOURCE"), "from-env");
    EXPECT_EQ(read_source("file:" + (dir / "x").string()), "from-file");
    EXPECT_EQ(read_source((dir / "x").string()), "from-file");
    try {
        read_source("env:TRELLIS_TEST_UNSET_VARIABLE");
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), Code::FileReadFailed);
    }
    try {
        read_file(dir / "nope");
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), Code::FileReadFailed);
        EXPECT_NE(std::string(e.what()).find("nope"), std::string::npos);
    }
}

}  // namespace trellis

namespace trellis {

TEST(Files, EmptyFileSetCommitsNothing) {
    FileSet set;
    EXPECT_NO_THROW(set.commit());
    EXPECT_TRUE(set.empty());
}

TEST(Files, FileSetAcrossManyDirectoriesLandsEveryFile) {
    TempDir dir;
    FileSet set;
    for (int i = 0; i < 50; ++i) set.add(dir / ("c" + std::to_string(i)) / "k.pem", std::to_string(i), kSecretMode);
    set.commit();
    for (int i = 0; i < 50; ++i) {
        EXPECT_EQ(slurp(dir / ("c" + std::to_string(i)) / "k.pem"), std::to_string(i));
        EXPECT_EQ(mode_of(dir / ("c" + std::to_string(i)) / "k.pem"), 0600u);
    }
    EXPECT_FALSE(std::filesystem::exists(dir / "c0" / ".k.pem.tmp"));
}

}  // namespace trellis
