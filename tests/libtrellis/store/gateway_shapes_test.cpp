// etcd's JSON gateway answering in the wrong shape (a broken proxy, a hostile peer): every answer
// becomes StoreRequestFailed with a reason, never an internal error or undefined behaviour. A real
// HTTP server on 127.0.0.181:2379 plays the gateway, since real etcd never sends these.
#include <gtest/gtest.h>

#include <httplib.h>
#include <thread>
#include <utility>

#include "core/error.hpp"
#include "store/etcd_client.hpp"

namespace trellis::store {
namespace {

using namespace std::chrono_literals;

class HostileGateway : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        server_ = new httplib::Server;
        server_->Post(".*", [](const httplib::Request&, httplib::Response& res) {
            const bool first = std::exchange(first_pending_, false);
            res.status = first ? first_status_ : status_;
            res.set_content(first ? first_body_ : body_, "application/json");
        });
        ASSERT_TRUE(server_->bind_to_port("127.0.0.181", 2379)) << "127.0.0.181:2379 is taken";
        thread_ = new std::thread([] { server_->listen_after_bind(); });
        for (int i = 0; i < 500 && !server_->is_running(); ++i) std::this_thread::sleep_for(10ms);
        ASSERT_TRUE(server_->is_running());
    }
    static void TearDownTestSuite() {
        server_->stop();
        thread_->join();
        delete thread_;
        delete server_;
    }
    // The code the client's call fails with when the gateway answers `body` with `status`.
    static Code code_of(int status, std::string body, const std::function<void(EtcdClient&)>& call) {
        status_ = status;
        body_ = std::move(body);
        EtcdClient client(ClientOptions{{"http://127.0.0.181:2379"}, {}, 1000ms, 3000ms});
        try {
            call(client);
        } catch (const Error& e) {
            return e.code();
        }
        return Code{0};
    }
    static inline httplib::Server* server_ = nullptr;
    static inline std::thread* thread_ = nullptr;
    static inline int status_ = 200;
    static inline std::string body_;
    // When set, the next request alone gets this answer (a member, then another).
    static inline bool first_pending_ = false;
    static inline int first_status_ = 0;
    static inline std::string first_body_;
};

const auto kMembers = [](EtcdClient& c) { c.member_list(); };
const auto kGet = [](EtcdClient& c) { c.get("k"); };
const auto kStatus = [](EtcdClient& c) { c.status(); };

TEST_F(HostileGateway, WrongShapesAreStoreRequestFailed) {
    EXPECT_EQ(code_of(200, "[1,2,3]", kMembers), Code::StoreRequestFailed);
    EXPECT_EQ(code_of(200, "[1,2,3]", kStatus), Code::StoreRequestFailed);
    EXPECT_EQ(code_of(200, R"({"members":[1]})", kMembers), Code::StoreRequestFailed);
    EXPECT_EQ(code_of(200, R"({"members":[{"ID":"1","isLearner":"yes"}]})", kMembers), Code::StoreRequestFailed);
    EXPECT_EQ(code_of(200, R"({"header":[]})", kMembers), Code::StoreRequestFailed);
    EXPECT_EQ(code_of(200, R"({"kvs":[{"value":"===="}]})", kGet), Code::StoreRequestFailed);
    EXPECT_EQ(code_of(200, R"({"kvs":[{"value":"QQ=x"}]})", kGet), Code::StoreRequestFailed);
    EXPECT_EQ(code_of(200, R"({"dbSize":-1e30})", kStatus), Code::StoreRequestFailed);
    EXPECT_EQ(code_of(200, R"({"leader":-5})", kStatus), Code::StoreRequestFailed);
}

TEST_F(HostileGateway, ErrorAnswersWithOddCodesStayStoreErrors) {
    EXPECT_EQ(code_of(500, R"({"code":1e30,"message":"boom"})", kMembers), Code::StoreRequestFailed);
    EXPECT_EQ(code_of(500, R"({"code":-7,"message":"boom"})", kMembers), Code::StoreRequestFailed);
    EXPECT_EQ(code_of(500, R"([1])", kMembers), Code::StoreRequestFailed);
}

// A member whose etcd is restarting answers through its gateway that it cannot dial its own gRPC server:
// the request never reached etcd, so the client takes it to the next endpoint (here the same server,
// which answers the second time). An error etcd itself gave is not tried elsewhere.
TEST_F(HostileGateway, AGatewayThatCannotReachItsEtcdIsFailedOverAndAnAnswerOfEtcdIsNot) {
    const std::string undelivered =
        R"({"error":"connection error: desc = \"transport: Error while dialing dial tcp 127.0.0.181:2379: )"
        R"(connect: connection refused\"","code":14,"message":"connection error: desc = \"transport: Error while )"
        R"(dialing dial tcp 127.0.0.181:2379: connect: connection refused\""})";
    status_ = 200;
    body_ = R"({"members":[{"ID":"12","name":"a"}]})";
    EtcdClient client(ClientOptions{{"http://127.0.0.181:2379", "http://127.0.0.181:2379"}, {}, 1000ms, 3000ms});
    first_status_ = 503, first_body_ = undelivered, first_pending_ = true;
    EXPECT_EQ(client.member_list().members.size(), 1u);
    EXPECT_FALSE(first_pending_);
    first_status_ = 503, first_pending_ = true;
    first_body_ = R"({"error":"etcdserver: leader changed","code":14,"message":"etcdserver: leader changed"})";
    EXPECT_THROW(client.member_list(), StoreError);
    first_pending_ = false;
}

TEST_F(HostileGateway, WellShapedAnswersStillDecode) {
    EXPECT_EQ(code_of(200, R"({"members":[{"ID":"12","name":"a","isLearner":true}]})", kMembers), Code{0});
    EXPECT_EQ(code_of(200, R"({"kvs":[{"value":"QQ=="}]})", kGet), Code{0});
    EXPECT_EQ(code_of(200, R"({"kvs":[{"value":""}]})", kGet), Code{0});
}

}  // namespace
}  // namespace trellis::store
