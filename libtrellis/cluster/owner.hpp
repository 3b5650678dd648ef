// The spec's owner: as this machine's user and group IDs. The one place provisioning reads the user and
// group databases; the plan itself only compares the numbers (plan.hpp).
#pragma once

#include "cluster/spec.hpp"
#include "core/files.hpp"

namespace trellis::cluster {

// Fills uid/gid of the spec's owner and every node's: user mode U:G, group mode root:G (G defaults to U's
// primary group). Code::OwnerUnknown, one line naming the spec file, line and field, for a user or group
// this machine does not have.
void resolve_owners(Spec& spec);

// Who owns a node's files and its keys' mode under `owner` (resolved): kSecretMode, or kGroupSecretMode
// in group mode.
FileOwner files_owner(const OwnerSpec& owner);
mode_t key_mode(const OwnerSpec& owner);

}  // namespace trellis::cluster
