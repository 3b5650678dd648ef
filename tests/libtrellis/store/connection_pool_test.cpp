// store::ConnectionPool without a network: what it lends, keeps and closes (httplib clients connect only
// when asked to send, which these tests never do).
#include "store/connection_pool.hpp"

#include <gtest/gtest.h>
#include <httplib.h>

#include <filesystem>
#include <vector>

#include "store/etcd_client.hpp"
#include "support.hpp"

namespace trellis::store {
namespace {

// Two versions of the TLS files, as stamps.
const TlsIdentity kFiles1{FileStamp{1, 1, 10, 1, 1}, {}, {}};
const TlsIdentity kFiles2{FileStamp{1, 2, 10, 1, 1}, {}, {}};

class PoolTest : public ::testing::Test {
  protected:
    ConnectionPool pool_{2};
    int dials_ = 0;
    ConnectionPool::Dial dial_ = [this] {
        ++dials_;
        return std::make_unique<httplib::ClientImpl>("127.0.0.251", 2379);
    };
    // Borrows one connection and gives it back kept; whether it was a kept one.
    bool borrow_and_keep(const TlsIdentity& identity) {
        auto lease = pool_.acquire("e", identity, dial_);
        lease.keep();
        return lease.reused();
    }
};

TEST_F(PoolTest, LendsAConnectionAgainOnlyAfterACleanAnswer) {
    EXPECT_FALSE(borrow_and_keep(kFiles1));
    EXPECT_EQ(pool_.idle("e"), 1u);
    EXPECT_TRUE(borrow_and_keep(kFiles1));
    EXPECT_EQ(dials_, 1);
    {
        auto failed = pool_.acquire("e", kFiles1, dial_);  // not kept: an error, or an answer not 200
        EXPECT_TRUE(failed.reused());
    }
    EXPECT_EQ(pool_.idle("e"), 0u);
    EXPECT_FALSE(borrow_and_keep(kFiles1));
    EXPECT_EQ(dials_, 2);
}

TEST_F(PoolTest, ClosesConnectionsMadeWithTlsFilesSinceReplaced) {
    borrow_and_keep(kFiles1);
    borrow_and_keep(kFiles1);
    EXPECT_FALSE(borrow_and_keep(kFiles2));  // renewed: the old connections are not lent
    EXPECT_EQ(pool_.idle("e"), 1u);
    {
        auto old = pool_.acquire("e", kFiles2, dial_);
        auto late = ConnectionPool::Lease(std::move(old));  // moved: only one gives it back
        late.keep();
    }
    EXPECT_EQ(pool_.idle("e"), 1u);
    EXPECT_EQ(pool_.idle("other"), 0u);
}

TEST_F(PoolTest, KeepsAtMostItsLimitAndDialsAFreshOneWhenAsked) {
    {
        std::vector<ConnectionPool::Lease> at_once;
        for (int i = 0; i < 3; ++i) at_once.push_back(pool_.acquire("e", kFiles1, dial_));
        for (auto& l : at_once) l.keep();
    }
    EXPECT_EQ(dials_, 3);
    EXPECT_EQ(pool_.idle("e"), 2u);
    auto fresh = pool_.acquire("e", kFiles1, dial_, true);
    EXPECT_FALSE(fresh.reused());
    EXPECT_EQ(dials_, 4);
    EXPECT_EQ(pool_.idle("e"), 2u);
}

TEST_F(PoolTest, ParsesTheClientPairOncePerVersionOfItsFilesAndNeverKeepsAFailure) {
    int loads = 0;
    const auto admin = [&] {
        ++loads;
        return read_client_credentials({testing::data_path("ctl/tls/admin.pem").string(),
                                        testing::data_path("ctl/tls/admin-key.pem").string(), ""});
    };
    const auto first = pool_.credentials(kFiles1, admin);
    ASSERT_TRUE(first);
    EXPECT_EQ(pool_.credentials(kFiles1, admin), first);  // the same parsed pair, not parsed again
    EXPECT_EQ(loads, 1);
    EXPECT_NE(pool_.credentials(kFiles2, admin), first);  // renewed files: parsed again
    EXPECT_EQ(loads, 2);
    const auto broken = [&]() -> std::shared_ptr<const ClientCredentials> {
        ++loads;
        return nullptr;
    };
    EXPECT_FALSE(pool_.credentials(kFiles1, broken));
    EXPECT_FALSE(pool_.credentials(kFiles1, broken));  // a failure is tried again, not remembered
    EXPECT_EQ(loads, 4);
}

TEST(ClientCredentials, AreReadOnlyAsAMatchingPairOfPemFiles) {
    const auto tls = [](const char* name) { return testing::data_path(std::string("ctl/tls/") + name).string(); };
    const auto pair = read_client_credentials({tls("admin.pem"), tls("admin-key.pem"), ""});
    ASSERT_TRUE(pair);
    EXPECT_TRUE(pair->cert && pair->key);
    EXPECT_FALSE(read_client_credentials({tls("admin.pem"), tls("server-key.pem"), ""}));  // not its key
    EXPECT_FALSE(read_client_credentials({tls("admin.pem"), tls("admin.pem"), ""}));       // not a key
    EXPECT_FALSE(read_client_credentials({tls("admin.pem"), tls("missing-key.pem"), ""}));
}

TEST(TlsIdentity, ChangesWhenAFileIsRenamedIntoPlaceNotWhenReadAgain) {
    testing::TempDir dir;
    const auto cert = dir.path() / "c.pem";
    testing::spit(cert, "one");
    testing::spit(dir.path() / "k.pem", "key");
    const TlsFiles files{cert.string(), (dir.path() / "k.pem").string(), ""};
    const TlsIdentity before = tls_identity(files);
    EXPECT_EQ(tls_identity(files), before);
    testing::spit(dir.path() / "c.pem.new", "one");  // the same size and text: only the inode tells
    std::filesystem::rename(dir.path() / "c.pem.new", cert);
    EXPECT_NE(tls_identity(files), before);
}

}  // namespace
}  // namespace trellis::store
