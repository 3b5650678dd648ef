// `trellisctl cluster member-replace NAME NEW-PEER-URL [--render SPEC --out DIR]`: one command for a dead
// member's replacement (docs/trellisctl.md): the dead member is removed, the replacement added as a
// learner under the same name, and its files rendered; refused while NAME still answers or when the
// removal would leave the cluster without a quorum of healthy members.
#pragma once

#include <optional>
#include <ostream>
#include <string>

#include "client.hpp"
#include "commands.hpp"
#include "views.hpp"

namespace trellis::ctl {

// Pure, for tests: Code::InputInvalidValue when `dead_id` is healthy (it is not dead), Code::StoreUnavailable
// when, without it, the healthy members would be fewer than a quorum of those that remain.
void check_replaceable(const api::Health& health, std::uint64_t dead_id, const std::string& name);

int member_replace(const ApiClient& client, const std::string& name, const std::string& peer_urls,
                   const std::optional<RenderRequest>& render, const ChangeOptions& change, Format format,
                   std::ostream& out);

}  // namespace trellis::ctl
