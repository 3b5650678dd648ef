// The public API's store client, used through include/trellis/ only (the client against a real
// etcd is tested in etcd_client_test.cpp; this checks the facade's own conversions).
#include <gtest/gtest.h>

#include <trellis/errors.hpp>
#include <trellis/store.hpp>

namespace {

TEST(PublicStore, RefusesABadEndpoint) {
    try {
        trellis::StoreClient client({.endpoints = {"ftp://127.0.0.191:2379"}});
        FAIL() << "an ftp:// endpoint was accepted";
    } catch (const trellis::Error& e) {
        EXPECT_EQ(e.code(), trellis::Code::InputInvalidValue) << e.what();
    }
    EXPECT_EQ(trellis::member_id_text(0xabc), "abc");
    EXPECT_EQ(trellis::member_id_text(0x8e9e05c52164694d), "8e9e05c52164694d");
}

}  // namespace
