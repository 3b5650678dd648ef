// Streaming a snapshot out of etcd, apart from snapshot.cpp: cluster-config only checks and restores
// snapshot files (through etcdctl), and keeping this call to the HTTP client out of the object it links
// keeps cpp-httplib, libssl, brotli and zlib out of its every start (about 1 ms of CPU to load them).
#include "store/snapshot.hpp"

#include <nlohmann/json.hpp>

#include "core/error.hpp"

namespace trellis::store {

using nlohmann::json;

std::string stream_snapshot(EtcdClient& client, const Url& endpoint,
                            const std::function<void(std::string_view)>& sink) {
    bool any = false;
    try {
        client.stream_on(endpoint, "/v3/maintenance/snapshot", json::object(), [&](const json& result) {
            const auto it = result.find("blob");
            if (it != result.end() && it->is_string()) sink(base64_decode(it->get<std::string>(), "snapshot blob"));
            any = true;
        });
    } catch (const StoreError&) {
        throw;  // etcd refused: never a partial success
    } catch (const Error& e) {
        if (!any) throw;
        return e.what();
    }
    return {};
}

}  // namespace trellis::store
