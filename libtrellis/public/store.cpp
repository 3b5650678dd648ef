// The public API's store client (include/trellis/store.hpp): the etcd client behind a pimpl, so
// that neither its JSON library nor cpp-httplib shows in the public header.
#include "trellis/store.hpp"
#include "store/etcd_client.hpp"

namespace trellis {

namespace detail {
struct StoreImpl {
    store::EtcdClient client;
};
}  // namespace detail

StoreClient::StoreClient(StoreOptions options) {
    store::ClientOptions o;
    o.endpoints = std::move(options.endpoints);
    o.tls = {std::move(options.cert_file), std::move(options.key_file), std::move(options.ca_file)};
    o.connect_timeout = options.connect_timeout;
    o.request_timeout = options.request_timeout;
    o.cert_settings = "StoreOptions::cert_file and key_file";
    impl_ = std::make_unique<detail::StoreImpl>(detail::StoreImpl{store::EtcdClient(std::move(o))});
}

StoreClient::~StoreClient() = default;
StoreClient::StoreClient(StoreClient&&) noexcept = default;
StoreClient& StoreClient::operator=(StoreClient&&) noexcept = default;

std::vector<StoreMember> StoreClient::members() {
    std::vector<StoreMember> out;
    for (auto& m : impl_->client.member_list().members)
        out.push_back({m.id, std::move(m.name), std::move(m.peer_urls), std::move(m.client_urls), m.is_learner});
    return out;
}

void StoreClient::put(std::string_view key, std::string_view value) { impl_->client.put(key, value); }
std::optional<std::string> StoreClient::get(std::string_view key) { return impl_->client.get(key); }

std::string member_id_text(std::uint64_t id) { return store::hex_id(id); }

}  // namespace trellis
