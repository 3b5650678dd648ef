// The API server's request head and target (libtrellis/api/http_request.hpp), as any client on the network may
// send them before it has shown a certificate: refused or parsed, never more body than the limit.
#include <variant>

#include "api/http_request.hpp"
#include "fuzz.hpp"

TRELLIS_FUZZ_TARGET([](std::string_view in) {
    const trellis::api::RequestLimits limits;
    const auto parsed = trellis::api::parse_request_head(in, limits);
    if (const auto* head = std::get_if<trellis::api::RequestHead>(&parsed)) {
        if (head->content_length > limits.max_body_bytes) std::abort();
        (void)trellis::api::split_target(head->target);
    } else if (std::get<trellis::api::HeadRefusal>(parsed).status < 400) {
        std::abort();
    }
})
