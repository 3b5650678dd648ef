// The snapshot integrity check on files made here: etcd's layout (a bbolt db of whole pages, then the
// SHA-256 of it) passes; a flipped byte, a truncation and a file that is no snapshot are refused with
// Code::SnapshotCorrupt naming the file. (Real snapshots: tests/backend/recovery_test.cpp.)
#include "store/snapshot.hpp"

#include <openssl/sha.h>

#include <gtest/gtest.h>

#include "core/error.hpp"
#include "support.hpp"

namespace trellis::store {
namespace {

using testing::spit;
using testing::TempDir;

// `pages` 4 KiB pages of varied bytes followed by their SHA-256, as etcd streams a snapshot.
std::string fake_snapshot(std::size_t pages) {
    std::string db(pages * 4096, '\0');
    for (std::size_t i = 0; i < db.size(); ++i) db[i] = static_cast<char>((i * 131 + i / 7) & 0xff);
    unsigned char sha[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(db.data()), db.size(), sha);
    return db + std::string(reinterpret_cast<const char*>(sha), sizeof sha);
}

Code code_of(const std::filesystem::path& file) {
    try {
        check_snapshot(file);
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find(file.string()), std::string::npos) << e.what();
        return e.code();
    }
    return Code::Internal;  // accepted
}

TEST(Snapshot, AcceptsADbFollowedByItsSha256) {
    TempDir dir;
    const std::string data = fake_snapshot(5);
    spit(dir / "ok.db", data);
    const SnapshotIntegrity got = check_snapshot(dir / "ok.db");
    EXPECT_EQ(got.file_size, data.size());
    EXPECT_EQ(got.db_size, 5u * 4096);
    EXPECT_EQ(got.sha256.size(), 64u);
}

TEST(Snapshot, RefusesAFlippedByteATruncationAndNoSnapshotAtAll) {
    TempDir dir;
    std::string data = fake_snapshot(5);
    std::string flipped = data;
    flipped[4096 * 2 + 17] ^= 1;
    spit(dir / "flipped.db", flipped);
    EXPECT_EQ(code_of(dir / "flipped.db"), Code::SnapshotCorrupt);
    spit(dir / "short.db", data.substr(0, data.size() - 4096));
    EXPECT_EQ(code_of(dir / "short.db"), Code::SnapshotCorrupt);
    spit(dir / "no-hash.db", data.substr(0, 5 * 4096));
    EXPECT_EQ(code_of(dir / "no-hash.db"), Code::SnapshotCorrupt);
    spit(dir / "text.db", "hello\n");
    EXPECT_EQ(code_of(dir / "text.db"), Code::SnapshotCorrupt);
    EXPECT_EQ(code_of(dir / "missing.db"), Code::FileReadFailed);
}

}  // namespace
}  // namespace trellis::store
