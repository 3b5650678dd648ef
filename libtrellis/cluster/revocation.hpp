// Revocation as part of the plan: `cluster-config revoke` names leaves whose serials go into their CA's
// CRL (and which are re-issued with a new key); every plan keeps one CRL per CA in DIR/ca and a copy next
// to each node's copy of that CA, re-signed when the revoked set changes, the CA changes, or its
// nextUpdate comes within pki.renew-before. Pure, like the rest of make_plan: apply() signs.
#pragma once

#include <span>
#include <vector>

#include "cluster/plan.hpp"

namespace trellis::cluster {

// revoke: every name must be a leaf of the spec (Code::CertUnknownName, in one line with the leaves there
// are; a CA is refused with what to do instead), and its certificate must be in DIR (Code::FileReadFailed).
void check_revoke_names(const std::vector<CertEntry>& entries, const DirSnapshot& dir, const PlanOptions& o);
// revoke: is `e` one of the leaves asked for?
bool revoke_asked(const CertEntry& e, const PlanOptions& o);
// Why a revoked leaf is re-issued: "revoked (serial N); re-issued with a new key".
std::string revoke_reason(const CertEntry& e, const DirSnapshot& dir);
// After the certificates and CA copies are planned: the record of revoked serials, one CRL per CA and its
// copies in the folders of `nodes`.
void plan_crls(const Spec& spec, std::span<const NodeSpec> nodes, const DirSnapshot& dir, const PlanOptions& o,
               Plan& plan);

}  // namespace trellis::cluster
