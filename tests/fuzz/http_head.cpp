// The API server's request head and target (backend/http_server.hpp), as any client on the network may
// send them before it has shown a certificate: refused or parsed, never more body than the limit.
#include <variant>

#include "fuzz.hpp"
#include "http_server.hpp"

TRELLIS_FUZZ_TARGET([](std::string_view in) {
    const trellis::backend::HttpLimits limits;
    const auto parsed = trellis::backend::parse_request_head(in, limits);
    if (const auto* head = std::get_if<trellis::backend::RequestHead>(&parsed)) {
        if (head->content_length > limits.max_body_bytes) std::abort();
        (void)trellis::backend::split_target(head->target);
    } else if (std::get<trellis::backend::HeadRefusal>(parsed).status < 400) {
        std::abort();
    }
})
