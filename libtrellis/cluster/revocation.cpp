#include "cluster/revocation.hpp"

#include <algorithm>
#include <set>

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
                       const Spec& spec, pki::Clock::time_point now) {
    if (!ca.reason.empty()) return ca.reason;
    const FileState* have = dir.find(crl.path);
    if (have == nullptr) return "new CRL";
    pki::CrlInfo info;
    try {
        const auto issuer = pki::Certificate::from_pem(dir.find(ca.entry.cert)->content, ca.entry.cert.string());
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

void add_crl_files(const Spec& spec, std::span<const NodeSpec> nodes, const DirSnapshot& dir, size_t index,
                   Plan& plan) {
    const PlannedCrl& crl = plan.crls[index];
    const CertKind ca = plan.certs[crl.ca].entry.kind->kind;
    std::vector<fs::path> paths{crl.path};
    for (const auto& copy : ca_copies(spec, nodes, false))
        if (copy.ca == ca) paths.push_back(crl_path(copy.path));
    for (const auto& path : paths) {
        PlannedFile f;
        f.path = path;
        f.mode = kPublicMode;
        f.reason = crl.reason;
        if (crl.reason.empty())
            f.content = dir.find(crl.path)->content;
        else
            f.crl = index;
        plan.files.push_back(std::move(f));
    }
}

}  // namespace

bool revoke_asked(const CertEntry& e, const PlanOptions& o) {
    return o.revoke && std::find(o.revoke->begin(), o.revoke->end(), cert_name(e)) != o.revoke->end();
}

void check_revoke_names(const std::vector<CertEntry>& entries, const DirSnapshot& dir, const PlanOptions& o) {
    if (!o.revoke) return;
    if (o.force_new_ca) throw Error(Code::Usage, "revoke keeps the CA: it cannot be combined with a new CA");
    if (o.revoke->empty()) throw Error(Code::Usage, "revoke: name at least one certificate");
    std::string leaves;
    for (const auto& e : entries)
        if (!e.kind->is_ca()) leaves += (leaves.empty() ? "" : ", ") + cert_name(e);
    for (const auto& name : *o.revoke) {
        const auto it =
            std::find_if(entries.begin(), entries.end(), [&](const CertEntry& e) { return cert_name(e) == name; });
        if (it != entries.end() && !it->kind->is_ca()) {
            if (dir.find(it->cert) == nullptr)
                throw Error(Code::FileReadFailed,
                            located(it->cert.string(), "missing, so there is nothing to revoke; provision first"));
            continue;
        }
        const std::string why = it != entries.end()
                                    ? "is a CA; a CA cannot be revoked, replace it (provision --force-new-ca)"
                                    : "no leaf certificate of that name in the spec (the leaves: " + leaves + ")";
        throw Error(Code::CertUnknownName, "revoke " + excerpt(name) + ": " + why);
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
        if (!ca.entry.kind->is_ca()) continue;
        const std::string name = cert_name(ca.entry);
        // A new CA signed none of the revoked certificates: its CRL starts empty.
        if (!ca.reason.empty()) plan.revoked.erase(name);
        PlannedCrl crl{i, crl_path(ca.entry.cert), {}, {}};
        if (const auto it = plan.revoked.find(name); it != plan.revoked.end())
            for (const auto& r : it->second) crl.serials.push_back(r.serial);
        std::sort(crl.serials.begin(), crl.serials.end());
        const auto why = added.find(name);
        crl.reason = crl_reason(ca, crl, why == added.end() ? "" : why->second, dir, spec, o.now);
        plan.crls.push_back(std::move(crl));
        add_crl_files(spec, nodes, dir, plan.crls.size() - 1, plan);
    }
}

}  // namespace trellis::cluster
