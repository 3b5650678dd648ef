#include "core/files.hpp"

#include <sys/resource.h>
#include <sys/stat.h>

#include <csignal>

#include <gtest/gtest.h>
#include <cstdlib>

#include "code_of.hpp"
#include "core/error.hpp"
#include "support.hpp"

namespace fs = std::filesystem;
using trellis::testing::code_of;
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

TEST(Files, AtomicWriterShowsNothingUntilCommitAndLeavesNothingOnFailure) {
    TempDir dir;
    const mode_t old = ::umask(0);
    {
        AtomicWriter w(dir / "snap.db", kSecretMode);
        w.write("part one, ");
        EXPECT_FALSE(fs::exists(dir / "snap.db"));
        EXPECT_EQ(slurp(w.temp_path()), "part one, ");
        w.truncate();  // a retry from another source starts over
        w.write("whole");
        w.commit(false);
    }
    ::umask(old);
    EXPECT_EQ(slurp(dir / "snap.db"), "whole");
    EXPECT_EQ(mode_of(dir / "snap.db"), 0600u);
    {
        AtomicWriter abandoned(dir / "other.db", kSecretMode);
        abandoned.write("half");
    }  // destroyed without commit: an error path
    EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 1);
}

TEST(Files, AtomicWriterNeverReplacesWithoutOverwrite) {
    TempDir dir;
    write_file_atomic(dir / "snap.db", "the user's", kSecretMode);
    AtomicWriter w(dir / "snap.db", kSecretMode);
    w.write("new");
    try {
        w.commit(false);
        FAIL() << "replaced an existing file";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), Code::FileExists);
    }
    EXPECT_EQ(slurp(dir / "snap.db"), "the user's");
    EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 1);
    AtomicWriter replace(dir / "snap.db", kSecretMode);
    replace.write("new");
    replace.commit(true);
    EXPECT_EQ(slurp(dir / "snap.db"), "new");
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

// Enough files that staging runs on several threads (a job per staged folder; four threads asked for, so
// a one-core machine runs them too): every file lands with its content and mode, in new folders, nested
// new folders and a folder that already exists.
TEST(Files, FileSetStagedAcrossThreadsLandsEveryFileWithItsMode) {
    TempDir dir;
    fs::create_directories(dir / "old");
    FileSet set(dir.path());
    std::vector<std::pair<fs::path, mode_t>> expected;
    for (int i = 0; i < 120; ++i) {
        const std::string n = std::to_string(i);
        const fs::path folder = i % 3 == 0 ? dir / "old" : i % 3 == 1 ? dir / ("new" + n) : dir / "deep" / n / "er";
        for (const auto& [name, mode] : {std::pair{"k.pem", kSecretMode}, std::pair{"c.pem", kPublicMode}}) {
            set.add(folder / (n + name), n + name, mode);
            expected.emplace_back(folder / (n + name), mode);
        }
    }
    set.commit(/*overwrite=*/false, /*threads=*/4);
    for (const auto& [path, mode] : expected) {
        EXPECT_EQ(slurp(path), path.filename().string());
        EXPECT_EQ(mode_of(path), mode) << path;
    }
    EXPECT_FALSE(fs::exists(dir / ".trellis-commit"));
}

static Code read_code(const fs::path& p) {
    return code_of([&] { (void)read_file(p); });
}

// Issue 9: one bounded read of a regular file; never a FIFO wait or a /dev/zero that grows.
TEST(Files, ReadsOnlyBoundedRegularFiles) {
    TempDir dir;
    EXPECT_EQ(read_code("/dev/zero"), Code::FileReadFailed);
    EXPECT_EQ(read_code(dir.path()), Code::FileReadFailed);
    ASSERT_EQ(::mkfifo((dir.path() / "fifo").c_str(), 0600), 0);
    EXPECT_EQ(read_code(dir.path() / "fifo"), Code::FileReadFailed);  // returns at once: nobody writes
    testing::spit(dir.path() / "big", "");
    fs::resize_file(dir.path() / "big", kMaxInputBytes + 1);
    EXPECT_EQ(read_code(dir.path() / "big"), Code::FileTooLarge);
    fs::resize_file(dir.path() / "big", kMaxInputBytes);
    EXPECT_EQ(read_file(dir.path() / "big").size(), kMaxInputBytes);
    EXPECT_EQ(read_code(dir.path() / "missing"), Code::FileReadFailed);
}

TEST(Files, OutputThatIsADirectoryOrUnderAFileSaysSo) {
    TempDir dir;
    fs::create_directories(dir.path() / "ca.pem");
    FileSet set;
    set.add(dir.path() / "ca.pem", "x", kPublicMode);
    try {
        set.commit(false);
        FAIL() << "wrote over a directory";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), Code::FileWriteFailed);
        EXPECT_NE(std::string(e.what()).find("is a directory"), std::string::npos) << e.what();
    }
    testing::spit(dir.path() / "plain", "x");
    FileSet under;
    under.add(dir.path() / "plain" / "sub" / "a.pem", "x", kPublicMode);
    try {
        under.commit();
        FAIL() << "wrote under a file";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), Code::FileWriteFailed);
        EXPECT_NE(std::string(e.what()).find("cannot create folder"), std::string::npos) << e.what();
    }
}

}  // namespace trellis

namespace trellis {

// A run killed after staging but before its manifest: the next commit throws the staged files away and
// the files they would have replaced are untouched.
TEST(FileSetCrashSafety, StagingWithoutManifestIsDiscarded) {
    TempDir dir;
    write_file_atomic(dir / "ca.pem", "old", kPublicMode);
    fs::create_directory(dir / ".trellis-commit");
    write_file_atomic(dir / ".trellis-commit" / "000000", "new", kPublicMode);
    const auto notes = recover_interrupted_commit(dir.path());
    ASSERT_EQ(notes.size(), 1u);
    EXPECT_NE(notes[0].find("discarded 1 staged files"), std::string::npos) << notes[0];
    EXPECT_EQ(slurp(dir / "ca.pem"), "old");
    EXPECT_FALSE(fs::exists(dir / ".trellis-commit"));
}

// A run killed after its manifest, halfway through moving files into place: the next run finishes the
// move, so the new set is complete, with its modes, and nothing is left in staging.
TEST(FileSetCrashSafety, ManifestIsRolledForward) {
    TempDir dir;
    write_file_atomic(dir / "ca.pem", "old", kPublicMode);
    const fs::path staging = dir / ".trellis-commit";
    fs::create_directory(staging);
    write_file_atomic(staging / "000001", "new key", kSecretMode);  // 000000 was already moved
    write_file_atomic(dir / "ca.pem", "new", kPublicMode);
    write_file_atomic(staging / "MANIFEST",
                      R"([{"staged":"000000","path":"ca.pem"},{"staged":"000001","path":"node/node-key.pem"}])",
                      kPublicMode);
    const auto notes = recover_interrupted_commit(dir.path());
    ASSERT_EQ(notes.size(), 1u);
    EXPECT_NE(notes[0].find("completed an interrupted write of 2 files"), std::string::npos) << notes[0];
    EXPECT_EQ(slurp(dir / "ca.pem"), "new");
    EXPECT_EQ(slurp(dir / "node" / "node-key.pem"), "new key");
    EXPECT_EQ(mode_of(dir / "node" / "node-key.pem"), 0600u);
    EXPECT_FALSE(fs::exists(staging));
}

// New folders are staged whole and moved with one rename; a run killed after moving some of them is
// completed the same way, and an existing folder is never replaced by a staged one.
TEST(FileSetCrashSafety, NewFoldersMoveWholeAndRollForward) {
    TempDir dir;
    fs::create_directories(dir / "ca");
    FileSet set(dir.path());
    set.add(dir / "ca" / "ca.pem", "CA", kPublicMode);
    for (int i = 0; i < 3; ++i) {
        const fs::path agent = dir / "agents" / ("agent-" + std::to_string(i));
        set.add(agent / "cert.pem", "C" + std::to_string(i), kPublicMode);
        set.add(agent / "key.pem", "K" + std::to_string(i), kSecretMode);
    }
    set.commit(/*overwrite=*/false);
    EXPECT_EQ(slurp(dir / "ca" / "ca.pem"), "CA");
    EXPECT_EQ(slurp(dir / "agents" / "agent-2" / "key.pem"), "K2");
    EXPECT_EQ(mode_of(dir / "agents" / "agent-1" / "key.pem"), 0600u);
    EXPECT_FALSE(fs::exists(dir / ".trellis-commit"));

    const fs::path staging = dir / ".trellis-commit";
    fs::create_directories(staging / "000001" / "node-9");  // 000000 (a file) was already moved
    write_file_atomic(staging / "000001" / "node-9" / "key.pem", "K9", kSecretMode);
    write_file_atomic(dir / "ca" / "ca.pem", "CA2", kPublicMode);
    write_file_atomic(staging / "MANIFEST",
                      R"([{"staged":"000000","path":"ca/ca.pem"},{"staged":"000001","path":"nodes","folder":true}])",
                      kPublicMode);
    const auto notes = recover_interrupted_commit(dir.path());
    ASSERT_EQ(notes.size(), 1u);
    EXPECT_NE(notes[0].find("completed an interrupted write of 1 files and 1 new folders"), std::string::npos)
        << notes[0];
    EXPECT_EQ(slurp(dir / "nodes" / "node-9" / "key.pem"), "K9");
    EXPECT_EQ(mode_of(dir / "nodes" / "node-9" / "key.pem"), 0600u);
    EXPECT_FALSE(fs::exists(staging));
}

TEST(FileSetCrashSafety, ManifestCannotEscapeTheRoot) {
    TempDir dir;
    fs::create_directory(dir / ".trellis-commit");
    write_file_atomic(dir / ".trellis-commit" / "000000", "x", kPublicMode);
    write_file_atomic(dir / ".trellis-commit" / "MANIFEST", R"([{"staged":"000000","path":"../escaped"}])",
                      kPublicMode);
    try {
        recover_interrupted_commit(dir.path());
        FAIL() << "followed a manifest out of its folder";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), Code::FileReadFailed);
    }
    EXPECT_FALSE(fs::exists(dir.path().parent_path() / "escaped"));
}

// Temp files of killed single-file writes are found anywhere below the root and removed; look-alikes stay.
TEST(FileSetCrashSafety, StrayTempFilesAreRemovedAndCounted) {
    TempDir dir;
    fs::create_directories(dir / "clients" / "agent-1");
    write_file_atomic(dir / "clients" / "agent-1" / ".agent-1-key.pem.tmp-9f3a0c", "k", kSecretMode);
    write_file_atomic(dir / ".ca.pem.tmp-1", "c", kPublicMode);
    write_file_atomic(dir / ".hidden", "keep", kPublicMode);
    write_file_atomic(dir / "notes.tmp-later", "keep", kPublicMode);
    const auto notes = recover_interrupted_commit(dir.path());
    ASSERT_EQ(notes.size(), 1u);
    EXPECT_NE(notes[0].find("removed 2 temp files"), std::string::npos) << notes[0];
    EXPECT_FALSE(fs::exists(dir / "clients" / "agent-1" / ".agent-1-key.pem.tmp-9f3a0c"));
    EXPECT_TRUE(fs::exists(dir / ".hidden"));
    EXPECT_TRUE(fs::exists(dir / "notes.tmp-later"));
}

// commit() itself recovers first and reports it; then writes the new set without leftovers.
TEST(FileSetCrashSafety, CommitRecoversFirstAndLeavesNoStaging) {
    TempDir dir;
    fs::create_directory(dir / ".trellis-commit");
    write_file_atomic(dir / ".trellis-commit" / "000000", "half", kPublicMode);
    FileSet set(dir.path());
    set.add(dir / "a" / "b.pem", "B", kPublicMode);
    set.commit(/*overwrite=*/false);
    ASSERT_EQ(set.recovered().size(), 1u);
    EXPECT_EQ(slurp(dir / "a" / "b.pem"), "B");
    EXPECT_FALSE(fs::exists(dir / ".trellis-commit"));
}

// A file-size limit for as long as it lives: write() beyond it fails with EFBIG, as a full disk fails it
// with ENOSPC (SIGXFSZ ignored, so the write returns instead of killing the process).
class FileSizeLimit {
  public:
    explicit FileSizeLimit(rlim_t bytes) : handler_(std::signal(SIGXFSZ, SIG_IGN)) {
        ::getrlimit(RLIMIT_FSIZE, &old_);
        rlimit small = old_;
        small.rlim_cur = bytes;
        ::setrlimit(RLIMIT_FSIZE, &small);
    }
    ~FileSizeLimit() {
        ::setrlimit(RLIMIT_FSIZE, &old_);
        std::signal(SIGXFSZ, handler_);
    }
    FileSizeLimit(const FileSizeLimit&) = delete;
    FileSizeLimit& operator=(const FileSizeLimit&) = delete;

  private:
    void (*handler_)(int);
    rlimit old_{};
};

// A set that cannot be staged (the disk is full) leaves no folder behind, not even the root it made.
TEST(FileSetCrashSafety, FailedStagingLeavesNoEmptyFolders) {
    TempDir dir;
    FileSet set(dir / "out");
    set.add(dir / "out" / "node" / "node.pem", std::string(64, 'N'), kPublicMode);
    Code code = Code::Internal;
    {
        const FileSizeLimit limit(16);
        code = code_of([&] { set.commit(); });
    }
    EXPECT_EQ(code, Code::FileWriteFailed);
    EXPECT_FALSE(fs::exists(dir / "out")) << "a failed write left a folder behind";
}

// The same failure in one job of many (staging on several threads): the first error is the commit's, the
// other jobs stop, and nothing of the set appears.
TEST(FileSetCrashSafety, FailedStagingOnOneOfManyThreadsLeavesNothing) {
    TempDir dir;
    constexpr rlim_t kLimit = 64 * 1024;  // room for the manifest: only the one large file fails
    FileSet set(dir / "out");
    for (int i = 0; i < 200; ++i)
        set.add(dir / "out" / ("n" + std::to_string(i)) / "n.pem", i == 150 ? std::string(kLimit + 1, 'N') : "small",
                kPublicMode);
    Code code = Code::Internal;
    {
        const FileSizeLimit limit(kLimit);
        code = code_of([&] { set.commit(/*overwrite=*/false, /*threads=*/4); });
    }
    EXPECT_EQ(code, Code::FileWriteFailed);
    EXPECT_FALSE(fs::exists(dir / "out")) << "a failed write left something behind";
}

}  // namespace trellis

namespace trellis {

// A target that cannot be written (its folder's name is taken by a file) fails the whole set before
// anything moves: no file of the set appears, not even those listed before it.
TEST(FileSetCrashSafety, UnwritableTargetFailsBeforeAnythingMoves) {
    TempDir dir;
    write_file_atomic(dir / "n3", "a file where a folder must go", kPublicMode);
    FileSet set(dir.path());
    set.add(dir / "n1" / "n1.pem", "one", kPublicMode);
    set.add(dir / "n3" / "n3.pem", "three", kPublicMode);
    try {
        set.commit();
        FAIL() << "committed into a file";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), Code::FileWriteFailed);
        EXPECT_NE(std::string(e.what()).find("n3"), std::string::npos) << e.what();
    }
    EXPECT_FALSE(fs::exists(dir / "n1"));
    EXPECT_FALSE(fs::exists(dir / ".trellis-commit"));
}

}  // namespace trellis
