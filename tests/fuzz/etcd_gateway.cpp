// etcd's v3 JSON gateway answers as the store client decodes them.
#include "core/strict_json.hpp"
#include "fuzz.hpp"
#include "store/etcd_client.hpp"

TRELLIS_FUZZ_TARGET([](std::string_view in) {
    const auto doc = trellis::parse_json(in, "etcd answer");
    trellis::store::decode_header(doc.contains("header") ? doc["header"] : doc);
    if (doc.is_object() && doc.contains("members") && doc["members"].is_array())
        for (const auto& m : doc["members"]) trellis::store::decode_member(m);
})
