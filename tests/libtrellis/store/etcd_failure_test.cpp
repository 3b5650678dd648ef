// etcd's own log lines to the cause a user can act on: the table's order decides, zap's JSON is read.
#include "store/etcd_failure.hpp"

#include <gtest/gtest.h>

namespace trellis::store {
namespace {

TEST(EtcdFailure, ZapLinesAreReadForTheirMessageAndError) {
    const auto d = diagnose_etcd_line(
        R"([etcd] {"level":"fatal","ts":"2026-12-02T04:20:00.000Z","caller":"etcdserver/storage.go:95",)"
        R"("msg":"failed to read WAL","error":"walpb: crc mismatch"})");
    ASSERT_TRUE(d);
    EXPECT_EQ(d->failure, EtcdFailure::DamagedData);
    EXPECT_EQ(d->evidence, "failed to read WAL: walpb: crc mismatch");
}

TEST(EtcdFailure, EachKindHasItsWords) {
    const std::pair<const char*, EtcdFailure> cases[] = {
        {"the member has been permanently removed from the cluster", EtcdFailure::Removed},
        {"request cluster ID mismatch", EtcdFailure::ForeignData},
        {"open /var/lib/trellis/etcd/member/snap/db: permission denied", EtcdFailure::Permission},
        {"failed to find database snapshot file (snap: snapshot file doesn't exist)", EtcdFailure::DamagedData},
    };
    for (const auto& [line, kind] : cases) {
        const auto d = diagnose_etcd_line(line);
        ASSERT_TRUE(d) << line;
        EXPECT_EQ(d->failure, kind) << line;
        EXPECT_EQ(d->evidence, line);
    }
    EXPECT_FALSE(diagnose_etcd_line("ready to serve client requests"));
}

TEST(EtcdFailure, TheEarlierRowWinsWhateverTheLineOrder) {
    // A file etcd may not open also leaves it unable to read its WAL: permission is the cause.
    const auto d = diagnose_etcd_lines(
        {R"({"msg":"failed to open WAL","error":"x"})", "open /s/etcd/member/wal: permission denied"});
    ASSERT_TRUE(d);
    EXPECT_EQ(d->failure, EtcdFailure::Permission);
    EXPECT_FALSE(diagnose_etcd_lines({"a", "b"}));
    EXPECT_FALSE(diagnose_etcd_lines({}));
}

TEST(EtcdFailure, EveryPatternIsFoundByItself) {
    for (const auto& p : etcd_failure_patterns()) {
        const auto d = diagnose_etcd_line(std::string("x ") + std::string(p.text) + " y");
        ASSERT_TRUE(d) << p.text;
    }
}

}  // namespace
}  // namespace trellis::store
