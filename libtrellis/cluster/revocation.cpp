#include "cluster/revocation.hpp"

#include <algorithm>
#include <optional>
#include <set>

#include "cluster/rotation.hpp"
#include "core/duration.hpp"
#include "core/files.hpp"
#include "core/time.hpp"

namespace fs = std::filesystem;

namespace trellis::cluster {
namespace {

// The name the record files a leaf's serial under: its issuing CA's (cert_name of ca/ca.pem is "ca").
std::string ca_name_of(const CertEntry& leaf) { return leaf.issuer_cert.stem().string(); }

std::string serial_in_dir(const CertEntry& e, const DirSnapshot& dir) {
    return pki::Certificate::from_pem(dir.find(e.cert)->content, e.cert.string()).serial_decimal();
}

// Why the CRL must be (re)signed, or "" when the one in DIR still says the right thing for long enough.
std::string crl_reason(const PlannedCert& ca, const PlannedCrl& crl, const std::string& added, const DirSnapshot& dir,
                       const Plan& plan, const Spec& spec, pki::Clock::time_point now) {
    if (!ca.reason.empty()) return ca.reason;
    const FileState* have = dir.find(crl.path);
    if (have == nullptr) return "new CRL";
    pki::CrlInfo info;
    try {
        // The CA the plan keeps: at a rotation's finish, the new CA that becomes ca.pem.
        // (plan.files is not sorted yet: Plan::file()'s search does not apply.)
        const auto planned = std::find_if(plan.files.begin(), plan.files.end(),
                                          [&](const PlannedFile& f) { return f.path == ca.entry.cert; });
        const std::string& pem = planned != plan.files.end() && !planned->content.empty()
                                     ? planned->content
                                     : dir.find(ca.entry.cert)->content;
        const auto issuer = pki::Certificate::from_pem(pem, ca.entry.cert.string());
        info = pki::read_crl(have->content, crl.path.string(), &issuer);
    } catch (const Error& err) {
        return std::string("unreadable: ") + err.what();
    }
    if (!info.signed_by_issuer) return "not signed by the current CA";
    if (info.serials != crl.serials)
        return added.empty() ? "its serials differ from the record in " + std::string(kManifestFile)
                             : "revokes " + added;
    if (info.next_update <= now) return "past its next update (" + utc_text(info.next_update) + ")";
    if (info.next_update - now < spec.renew_before)
        return "next update " + utc_text(info.next_update) + " is within renew-before " +
               format_go_duration(spec.renew_before);
    return "";
}

// Adds the serials revoke asks for to the record; returns, per CA, "name (serial N)" of those added.
std::map<std::string, std::string> record_revocations(const DirSnapshot& dir, const PlanOptions& o, Plan& plan) {
    std::map<std::string, std::string> added;
    for (const auto& c : plan.certs) {
        if (c.entry.kind->is_ca() || !revoke_asked(c.entry, o)) continue;
        const std::string ca = ca_name_of(c.entry), serial = serial_in_dir(c.entry, dir);
        auto& list = plan.revoked[ca];
        if (std::any_of(list.begin(), list.end(), [&](const RevokedCert& r) { return r.serial == serial; })) continue;
        list.push_back({serial, cert_name(c.entry)});
        added[ca] += (added[ca].empty() ? "" : ", ") + cert_name(c.entry) + " (serial " + serial + ")";
    }
    return added;
}

// The CRL of the CA at plan.certs[ca], listing the serials the record files under `name`.
size_t add_crl(size_t ca, const std::string& name, const std::map<std::string, std::string>& added,
               const DirSnapshot& dir, const Spec& spec, pki::Clock::time_point now, Plan& plan) {
    PlannedCrl crl{ca, crl_path(plan.certs[ca].entry.cert), {}, {}, {}};
    if (const auto it = plan.revoked.find(name); it != plan.revoked.end())
        for (const auto& r : it->second) crl.serials.push_back(r.serial);
    std::sort(crl.serials.begin(), crl.serials.end());
    const auto why = added.find(name);
    crl.reason = crl_reason(plan.certs[ca], crl, why == added.end() ? "" : why->second, dir, plan, spec, now);
    if (crl.reason.empty()) crl.content = dir.find(crl.path)->content;
    plan.crls.push_back(std::move(crl));
    return plan.crls.size() - 1;
}

// A file holding the CRLs `crls`: known now when every one is kept, else made by apply.
void add_crl_file(fs::path path, const std::vector<size_t>& crls, Plan& plan) {
    PlannedFile f;
    f.path = std::move(path);
    f.mode = kPublicMode;
    for (const size_t i : crls) {
        f.content += plan.crls[i].content;
        if (!plan.crls[i].reason.empty()) f.reason = plan.crls[i].reason;
    }
    if (!f.reason.empty()) f.crls = crls, f.content.clear();
    plan.files.push_back(std::move(f));
}

// DIR/ca/<ca>-crl.pem, and next to every copy of the CA in a folder the CRL of each CA that folder trusts:
// during a rotation the old CA's and the new one's, so a leaf of either finds its issuer's CRL (OpenSSL
// refuses a certificate whose issuer has no CRL where CRLs are checked).
void add_crl_files(const Spec& spec, std::span<const NodeSpec> nodes, size_t crl, std::optional<size_t> next,
                   Plan& plan) {
    const CertKind ca = plan.certs[plan.crls[crl].ca].entry.kind->kind;
    add_crl_file(plan.crls[crl].path, {crl}, plan);
    std::vector<size_t> trusted{crl};
    if (next) {
        add_crl_file(plan.crls[*next].path, {*next}, plan);
        trusted.push_back(*next);
    }
    for (const auto& copy : ca_copies(spec, nodes, false))
        if (copy.ca == ca) add_crl_file(crl_path(copy.path), trusted, plan);
}

// The rotation's new CA of the CA at plan.certs[ca] (ca-next.pem), when the plan holds one.
std::optional<size_t> next_ca(const Plan& plan, size_t ca) {
    const fs::path next = next_ca_entry(plan.certs[ca].entry).cert;
    for (size_t i = 0; i < plan.certs.size(); ++i)
        if (plan.certs[i].entry.cert == next) return i;
    return std::nullopt;
}

bool is_next_ca(const Plan& plan, size_t i) {
    for (size_t j = 0; j < plan.certs.size(); ++j)
        if (j != i && plan.certs[j].entry.kind->is_ca() && next_ca(plan, j) == i) return true;
    return false;
}

}  // namespace

bool revoke_asked(const CertEntry& e, const PlanOptions& o) {
    return o.revoke && std::find(o.revoke->begin(), o.revoke->end(), cert_name(e)) != o.revoke->end();
}

void check_revoke_names(const std::vector<CertEntry>& entries, const DirSnapshot& dir, const PlanOptions& o) {
    if (!o.revoke) return;
    if (o.force_new_ca) throw Error(Code::Usage, "revoke keeps the CA: it cannot be combined with a new CA");
    if (o.revoke->empty()) throw Error(Code::Usage, "revoke: name at least one certificate");
    for (const auto& name : *o.revoke) {
        const CertEntry& leaf = leaf_named(entries, name, "revoke " + excerpt(name),
                                           "is a CA; a CA cannot be revoked, replace it (provision --force-new-ca)");
        if (dir.find(leaf.cert) == nullptr)
            throw Error(Code::FileReadFailed,
                        located(leaf.cert.string(), "missing, so there is nothing to revoke; provision first"));
    }
}

std::string revoke_reason(const CertEntry& e, const DirSnapshot& dir) {
    return "revoked (serial " + serial_in_dir(e, dir) + "); re-issued with a new key";
}

void plan_crls(const Spec& spec, std::span<const NodeSpec> nodes, const DirSnapshot& dir, const PlanOptions& o,
               Plan& plan) {
    plan.revoked = dir.revoked;
    const auto added = record_revocations(dir, o, plan);
    for (size_t i = 0; i < plan.certs.size(); ++i) {
        const PlannedCert& ca = plan.certs[i];
        if (!ca.entry.kind->is_ca() || is_next_ca(plan, i)) continue;
        const std::string name = cert_name(ca.entry);
        // A new CA signed none of the revoked certificates: its CRL starts empty. A rotation's new CA
        // lists what the record files under the CA it replaces (a leaf revoked after reissue is its).
        if (!ca.reason.empty()) plan.revoked.erase(name);
        const size_t crl = add_crl(i, name, added, dir, spec, o.now, plan);
        std::optional<size_t> next;
        if (const auto j = next_ca(plan, i)) next = add_crl(*j, name, added, dir, spec, o.now, plan);
        add_crl_files(spec, nodes, crl, next, plan);
        // A finished rotation's new-CA CRL goes with its CA's pair.
        const fs::path left = crl_path(next_ca_entry(ca.entry).cert);
        if (!next && dir.find(left)) {
            PlannedFile gone;
            gone.path = left;
            gone.reason = "the rotation's new CA is now " + ca.entry.cert.filename().string();
            plan.removed.push_back(std::move(gone));
        }
    }
}

}  // namespace trellis::cluster
