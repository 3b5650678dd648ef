// The plan half of provisioning: pure (no file system, no key generation), so every decision and its
// reason is unit-tested from a spec, a DirSnapshot and a clock.
#include "cluster/plan.hpp"

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cstdio>
#include <set>

#include "cluster/owner.hpp"
#include "cluster/revocation.hpp"
#include "core/files.hpp"
#include "core/text.hpp"
#include "core/time.hpp"
#include "pki/issue.hpp"
#include "pki/request.hpp"

namespace fs = std::filesystem;

namespace trellis::cluster {
namespace {

std::string hours_text(pki::Duration d) {
    return std::to_string(std::chrono::duration_cast<std::chrono::hours>(d).count()) + "h";
}

std::string describe_key(const pki::KeyRequest& k) {
    return std::string(pki::algorithm_name(k.algo)) +
           (k.algo == pki::KeyAlgorithm::Ed25519 ? "" : "-" + std::to_string(k.size));
}

bool has_usage(const CertKindInfo& kind, std::string_view usage) {
    return std::find(kind.usages.begin(), kind.usages.end(), usage) != kind.usages.end();
}

std::string set_difference_text(const std::set<std::string>& want, const std::set<std::string>& have) {
    std::string out;
    for (const auto& w : want)
        if (!have.contains(w)) out += (out.empty() ? "" : ", ") + ("+" + w);
    for (const auto& h : have)
        if (!want.contains(h)) out += (out.empty() ? "" : ", ") + ("-" + h);
    return out;
}

std::string san_change(const pki::Certificate& cert, const std::vector<std::string>& hosts) {
    Warnings ignored;
    const pki::SubjectAltNames want = pki::classify_hosts(hosts, "hosts", ignored);
    std::set<std::string> want_names(want.dns.begin(), want.dns.end()), have_names;
    want_names.insert(want.ips.begin(), want.ips.end());
    for (const auto& n : cert.dns_names()) have_names.insert(n);
    for (const auto& n : cert.ip_addresses()) have_names.insert(n);
    return want_names == have_names ? "" : "SANs changed: " + set_difference_text(want_names, have_names);
}

std::string expiry_reason(const pki::Certificate& cert, const Spec& spec, pki::Clock::time_point now) {
    const auto left = cert.not_after() - now;
    if (left >= spec.renew_before) return "";
    if (left.count() <= 0) return "expired";
    return "expires in " + hours_text(std::chrono::duration_cast<pki::Duration>(left)) + ", within renew-before " +
           hours_text(spec.renew_before);
}

// A leaf whose subject O is not its role (one from before roles, or a client whose role the spec changed)
// is reissued: the API authorizes by that O.
std::string role_change(const pki::Certificate& cert, const Spec& spec, const CertEntry& e) {
    const std::string want = leaf_name(spec, e).O;
    const std::vector<std::string> have = cert.organizations();
    if (have.size() == 1 && have.front() == want) return "";
    std::string text;
    for (const auto& o : have) text += (text.empty() ? "O=" : ",O=") + o;
    return "role differs (subject " + (text.empty() ? std::string("has no O") : text) +
           ", the spec's role is O=" + want + ")";
}

constexpr const char* kNotSignedByCa = "not signed by the current CA";

// Why an existing leaf must be reissued, or "" when it still fits the spec.
std::string reissue_reason(const CertEntry& e, const FileState& cert_file, const FileState& key_file,
                           const pki::Signer& ca, const Spec& spec, pki::Clock::time_point now) {
    std::optional<pki::Certificate> cert;
    std::optional<pki::PrivateKey> key;
    try {
        cert = pki::Certificate::from_pem(cert_file.content, e.cert.string());
        key = pki::PrivateKey::from_pem(key_file.content, e.key.string());
    } catch (const Error& err) {
        return std::string("unreadable: ") + err.what();
    }
    if (!cert->matches(*key)) return "key does not match the certificate";
    if (!signed_by(*cert, ca.certificate())) return kNotSignedByCa;
    if (cert->common_name() != e.cn) return "common name differs";
    if (auto why = role_change(*cert, spec, e); !why.empty()) return why;
    const pki::KeyRequest k = key->describe();
    if (k.algo != spec.leaf_key.algo || k.size != spec.leaf_key.size)
        return "key is " + describe_key(k) + ", spec asks for " + describe_key(spec.leaf_key);
    if (cert->has_ext_key_usage(NID_client_auth) != has_usage(*e.kind, "client auth") ||
        cert->has_ext_key_usage(NID_server_auth) != has_usage(*e.kind, "server auth"))
        return "extended key usage differs";
    if (auto why = san_change(*cert, e.hosts); !why.empty()) return why;
    return expiry_reason(*cert, spec, now);
}

// Plans one CA: kept (and loaded, to judge its leaves) or new. Returns its signer when kept.
std::optional<pki::Signer> plan_ca(const CertEntry& e, const DirSnapshot& dir, const Spec& spec, const PlanOptions& o,
                                   Plan& plan) {
    const FileState* cert = dir.find(e.cert);
    const FileState* key = dir.find(e.key);
    PlannedCert& planned = plan.certs.emplace_back(PlannedCert{e, {}, {}});
    if (cert && key && !o.force_new_ca) {
        pki::Signer signer(pki::Certificate::from_pem(cert->content, e.cert.string()),
                           pki::PrivateKey::from_pem(key->content, e.key.string()));
        if (auto why = expiry_reason(signer.certificate(), spec, o.now); !why.empty())
            plan.warnings.push_back(e.cert.string() + ": the CA " + why +
                                    "; replace it with --force-new-ca (every certificate is reissued)");
        const pki::KeyRequest k = signer.key().describe();
        if (k.algo != spec.ca_key.algo || k.size != spec.ca_key.size)
            plan.warnings.push_back(e.key.string() + ": the existing CA key is " + describe_key(k) +
                                    ", the spec asks for " + describe_key(spec.ca_key) +
                                    "; kept (pass --force-new-ca to replace it)");
        return signer;
    }
    if (!o.force_new_ca && (cert || key))
        throw Error(Code::FileReadFailed,
                    located((cert ? e.key : e.cert).string(), std::string("missing, but its CA ") +
                                                                  (cert ? "certificate " + e.cert.string() : "key") +
                                                                  " exists; restore it or pass --force-new-ca"));
    if (!o.only_node.empty() || o.renew || o.revoke || o.rotate)
        throw Error(Code::FileReadFailed,
                    located(e.cert.string(), std::string(o.revoke   ? "revoke"
                                                         : o.renew  ? "renew"
                                                         : o.rotate ? "rotate-ca"
                                                                    : "add-node") +
                                                 " needs the cluster's CA; run `cluster-config provision` first"));
    planned.reason = cert ? "--force-new-ca" : "new CA";
    return std::nullopt;
}

// renew: is `e` one of the leaves asked for?
bool renew_asked(const CertEntry& e, const PlanOptions& o) {
    if (!o.renew) return false;
    return o.renew->empty() || std::find(o.renew->begin(), o.renew->end(), cert_name(e)) != o.renew->end();
}

// renew --name: every name must be a leaf of the spec, said in one line with the names there are.
void check_renew_names(const std::vector<CertEntry>& entries, const PlanOptions& o) {
    if (!o.renew) return;
    if (o.force_new_ca) throw Error(Code::Usage, "renew keeps the CA: it cannot be combined with a new CA");
    for (const auto& name : *o.renew)
        leaf_named(entries, name, "--name " + excerpt(name),
                   "is a CA; renew re-issues leaves under the existing CA, never the CA itself");
}

RotationRecord read_rotation(const DirSnapshot& dir) {
    const FileState* f = dir.find(kRotationFile);
    return parse_rotation_record(f ? &f->content : nullptr);
}

// A file whose content the plan knows (a moved-aside CA, the rotation record, a removal).
PlannedFile known_file(fs::path path, std::string reason, mode_t mode, std::string content) {
    PlannedFile f;
    f.path = std::move(path);
    f.reason = std::move(reason);
    f.mode = mode;
    f.content = std::move(content);
    return f;
}

struct CaPlan {
    std::optional<pki::Signer> signer;   // signs the leaves (a kept CA); nullopt: a new CA, every leaf reissued
    size_t index;                        // in Plan::certs: the CA that signs the leaves
    std::vector<size_t> trusted;         // in Plan::certs: the CAs the folders' copies hold
    std::optional<RotationStage> stage;  // a rotation in progress
};

// finish: what the CA's own files hold from now on (the new CA's pair).
struct Replacement {
    fs::path path;
    std::string content;
};

pki::Signer signer_of(const CertEntry& e, const FileState& cert, const FileState& key) {
    return {pki::Certificate::from_pem(cert.content, e.cert.string()),
            pki::PrivateKey::from_pem(key.content, e.key.string())};
}

// finish: the old pair aside as ca/<stem>-retired-<stamp>*.pem, the new pair into the CA's files, the
// ca-next pair removed after the commit.
void plan_finish(const CertEntry& e, const CertEntry& next, const DirSnapshot& dir, const PlanOptions& o, Plan& plan,
                 std::vector<Replacement>& replace) {
    const auto [old_cert, old_key] = retired_paths(e, utc_stamp(o.now));
    const std::string why = "rotate-ca finish: the old CA, moved aside";
    plan.files.push_back(known_file(old_cert, why, kPublicMode, dir.find(e.cert)->content));
    plan.files.push_back(known_file(old_key, why, kSecretMode, dir.find(e.key)->content));
    replace.push_back({e.cert, dir.find(next.cert)->content});
    replace.push_back({e.key, dir.find(next.key)->content});
    for (const auto& path : {next.cert, next.key})
        plan.removed.push_back(known_file(path, "rotate-ca finish: now " + e.cert.filename().string(), 0, {}));
}

// A CA in rotation: kept, with the new one beside it (made by trust); at finish, the new one in its files.
CaPlan plan_rotating_ca(const CertEntry& e, RotationStage stage, const DirSnapshot& dir, const Spec& spec,
                        const PlanOptions& o, Plan& plan, std::vector<Replacement>& replace) {
    const size_t current = plan.certs.size();
    std::optional<pki::Signer> signer = plan_ca(e, dir, spec, o, plan);
    const CertEntry next = next_ca_entry(e);
    const FileState* cert = dir.find(next.cert);
    const FileState* key = dir.find(next.key);
    if (!cert || !key) {
        if (stage != RotationStage::Trust || cert || key)
            throw Error(Code::FileReadFailed,
                        located((cert ? next.key : next.cert).string(),
                                "missing: the new CA of the rotation in progress; restore it from a backup of DIR"));
        plan.certs.push_back({next, "rotate-ca trust: the new CA", {}});
        return {std::move(signer), current, {current, current + 1}, stage};
    }
    pki::Signer next_signer = signer_of(next, *cert, *key);
    if (stage == RotationStage::Finish) {
        plan_finish(e, next, dir, o, plan, replace);
        return {std::move(next_signer), current, {current}, stage};
    }
    plan.certs.push_back({next, {}, {}});
    if (stage == RotationStage::Trust) return {std::move(signer), current, {current, current + 1}, stage};
    return {std::move(next_signer), current + 1, {current, current + 1}, stage};
}

// A CA not in rotation; a new-CA pair left beside it by a finish interrupted before its clean-up goes.
CaPlan plan_steady_ca(const CertEntry& e, const DirSnapshot& dir, const Spec& spec, const PlanOptions& o, Plan& plan) {
    const size_t index = plan.certs.size();
    CaPlan ca{plan_ca(e, dir, spec, o, plan), index, {index}, std::nullopt};
    const CertEntry next = next_ca_entry(e);
    const FileState* left = dir.find(next.cert);
    if (!left || o.force_new_ca) return ca;
    const FileState* now = dir.find(e.cert);
    if (now && now->content == left->content) {
        for (const auto& path : {next.cert, next.key})
            if (dir.find(path)) plan.removed.push_back(known_file(path, "left by a finished rotation", 0, {}));
    } else {
        plan.warnings.push_back(next.cert.string() + ": a new CA with no rotation of " + e.cert.string() +
                                " in progress (" + std::string(kRotationFile) + "); kept, unused");
    }
    return ca;
}

void check_rotation(const Spec& spec, const RotationRecord& record, const PlanOptions& o) {
    for (const auto& [kind, e] : record.cas)
        if (o.force_new_ca && e.stage != RotationStage::Finish)
            throw Error(
                Code::RotationOutOfOrder,
                located(kRotationFile, "--force-new-ca while the rotation of the " + std::string(ca_flag(kind)) +
                                           " CA is at stage " + std::string(stage_name(e.stage)) +
                                           ": finish it first (rotate-ca --status says how)"));
    if (!o.rotate) return;
    const CertKindInfo& ca = cert_kind(o.rotate->ca);
    if (o.force_new_ca || o.renew) throw Error(Code::Usage, "rotate-ca cannot be combined with a new CA or renew");
    if (!ca.wanted(spec))
        throw Error(Code::InputInvalidValue,
                    "rotate-ca --ca " + std::string(ca_flag(ca.kind)) + ": the spec's security layout has no such CA" +
                        (ca.kind == CertKind::PeerCa ? " (ca: shared signs the peers with the client CA)" : ""));
    check_stage_order(ca, record, o.rotate->stage);
}

std::string leaf_reason(const CertEntry& e, const CaPlan& ca, const DirSnapshot& dir, const Spec& spec,
                        const PlanOptions& o, const Plan& plan) {
    const FileState* cert = dir.find(e.cert);
    const FileState* key = dir.find(e.key);
    if (!ca.signer) return plan.certs[ca.index].reason;
    if (!cert || !key) return "new " + std::string(e.kind->name) + " certificate";
    std::string why = reissue_reason(e, *cert, *key, *ca.signer, spec, o.now);
    if (why == kNotSignedByCa && ca.stage && ca.stage != RotationStage::Trust)
        why = "rotate-ca " + std::string(stage_name(*ca.stage)) + ": under the new CA";
    if (why.empty() && renew_asked(e, o)) why = "renew requested";
    return why;
}

std::map<CertKind, CaPlan> plan_certs(const Spec& spec, const std::vector<CertEntry>& entries, const DirSnapshot& dir,
                                      const PlanOptions& o, Plan& plan, std::vector<Replacement>& replace) {
    check_renew_names(entries, o);
    check_revoke_names(entries, dir, o);
    const RotationRecord record = read_rotation(dir);
    check_rotation(spec, record, o);
    std::map<CertKind, CaPlan> cas;
    for (const auto& e : entries) {
        if (!e.kind->is_ca()) continue;
        const auto stage = effective_stage(e.kind->kind, record, o.rotate);
        cas.emplace(e.kind->kind, stage ? plan_rotating_ca(e, *stage, dir, spec, o, plan, replace)
                                        : plan_steady_ca(e, dir, spec, o, plan));
    }
    for (const auto& e : entries) {
        if (e.kind->is_ca()) continue;
        const CaPlan& ca = cas.at(*e.kind->issuer);
        std::string why = leaf_reason(e, ca, dir, spec, o, plan);
        if (revoke_asked(e, o)) why = revoke_reason(e, dir);
        plan.certs.push_back({e, why, ca.index});
    }
    return cas;
}

// rotate-ca: the record of the stage done, in the same commit as the stage's files.
void add_rotation_record(Plan& plan, const DirSnapshot& dir, const PlanOptions& o) {
    if (!o.rotate) return;
    RotationRecord record = read_rotation(dir);
    const RotationRecord::Entry* was = record.find(o.rotate->ca);
    if (!was || was->stage != o.rotate->stage) {
        RotationRecord::Entry& e = record.cas[o.rotate->ca];
        if (o.rotate->stage == RotationStage::Trust) e.at.clear();  // a new rotation
        e.stage = o.rotate->stage;
        e.at[std::string(stage_name(e.stage))] = utc_text(o.now);
    }
    plan.files.push_back(known_file(kRotationFile, "rotate-ca " + std::string(stage_name(o.rotate->stage)) + " done",
                                    kPublicMode, rotation_record_json(record)));
}

std::string sha256_hex(std::string_view data) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(), nullptr);
    return hex(digest, len);
}

std::string owner_text(FileOwner o) {
    return std::to_string(static_cast<long>(o.uid)) + ":" + std::to_string(static_cast<long>(o.gid));
}

// Why a file holding the right content is written again: its mode, or (under owner:) its owner, differ.
std::string mode_owner_reason(const PlannedFile& f, const FileState& have) {
    std::string why;
    if (have.mode != f.mode) {
        char mode[8];
        std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(f.mode));
        why = "mode is not " + std::string(mode);
    }
    if (f.owner.set() && have.owner != f.owner)
        why += (why.empty() ? "" : "; ") + ("owner is " + owner_text(have.owner) + ", not " + owner_text(f.owner));
    return why;
}

// owner: a node folder's files belong to the node's user (or root and its group, keys then 0640).
void set_owners(Plan& plan, const Spec& spec, const std::vector<NodeSpec>& nodes) {
    for (const auto& n : nodes) {
        const OwnerSpec* owner = spec.owner_of(n);
        if (!owner) continue;
        if (!owner->resolved())
            throw Error(Code::Internal, "the owner of node " + n.name + " was not resolved (resolve_owners)");
        for (auto& f : plan.files) {
            if (f.path.begin() == f.path.end() || *f.path.begin() != n.name) continue;
            f.owner = files_owner(*owner);
            if (f.mode == kSecretMode) f.mode = key_mode(*owner);
        }
    }
}

// The one overwrite rule: what happens to `f` given what DIR holds.
void decide(PlannedFile& f, const DirSnapshot& dir, bool force) {
    const FileState* have = dir.find(f.path);
    if (!have) {
        f.action = FileAction::Create;
        if (f.reason.empty()) f.reason = "new file";
        return;
    }
    const bool same = !f.cert && f.crls.empty() && have->content == f.content;
    if (same) {
        f.reason = mode_owner_reason(f, *have);
        f.action = f.reason.empty() ? FileAction::Unchanged : FileAction::Update;
        return;
    }
    f.old_content = have->content;
    if (f.reason.empty()) f.reason = "content differs";
    const auto rec = dir.written.find(f.path);
    const bool ours = rec != dir.written.end() && rec->second == sha256_hex(have->content);
    if (ours) {
        f.action = FileAction::Update;
    } else if (force) {
        f.action = FileAction::Update;
        f.reason += "; changed by hand, replaced (--force)";
    } else {
        f.action = FileAction::Conflict;
        f.reason += rec == dir.written.end() ? "; not written by cluster-config, kept (--force replaces it)"
                                             : "; changed by hand since cluster-config wrote it, kept (--force "
                                               "replaces it)";
    }
}

void add_cert_files(Plan& plan, const DirSnapshot& dir, const std::vector<Replacement>& replace) {
    std::map<CertKind, size_t> ca_index;
    for (size_t i = 0; i < plan.certs.size(); ++i) {
        const PlannedCert& c = plan.certs[i];
        if (c.entry.kind->is_ca()) ca_index[c.entry.kind->kind] = i;
        for (const bool key : {false, true}) {
            PlannedFile f;
            f.path = key ? c.entry.key : c.entry.cert;
            f.mode = key ? kSecretMode : kPublicMode;
            f.reason = c.reason;
            f.key = key;
            if (c.reason.empty())
                f.content = dir.find(f.path)->content;
            else
                f.cert = i;
            for (const auto& r : replace)
                if (r.path == f.path) f.content = r.content, f.reason = "rotate-ca finish: the new CA becomes the CA";
            plan.files.push_back(std::move(f));
        }
    }
}

// What a file the plan already holds will contain (the files are not sorted yet).
const std::string& planned_content(const Plan& plan, const fs::path& path) {
    return std::find_if(plan.files.begin(), plan.files.end(), [&](const PlannedFile& f) { return f.path == path; })
        ->content;
}

// Each folder's copy of a CA: the CA's certificate, or while a rotation trusts two, both in one bundle.
void add_ca_copies(Plan& plan, const std::vector<CaCopy>& copies, const std::map<CertKind, CaPlan>& cas) {
    for (const auto& copy : copies) {
        const CaPlan& ca = cas.at(copy.ca);
        PlannedFile f;
        f.path = copy.path;
        f.mode = kPublicMode;
        std::vector<std::string> pems;
        for (const size_t i : ca.trusted) {
            if (!plan.certs[i].reason.empty())
                f.cert = i, f.reason = plan.certs[i].reason;
            else
                pems.push_back(planned_content(plan, plan.certs[i].entry.cert));
        }
        if (ca.trusted.size() > 1) {
            f.bundle = ca.trusted;
            f.reason = "rotate-ca: trusts the old and the new CA";
        } else if (ca.stage == RotationStage::Finish) {
            f.reason = "rotate-ca finish: trusts the new CA only";
        }
        if (!f.cert) f.content = pems.size() > 1 ? bundle_text(pems) : pems.front();
        plan.files.push_back(std::move(f));
    }
}

// Anything in a node's folder this plan does not write may be stale, or worse, a CA key.
void warn_strays(Plan& plan, const DirSnapshot& dir, const std::vector<NodeSpec>& nodes) {
    std::set<fs::path> planned;
    for (const auto& f : plan.files) planned.insert(f.path);
    for (const auto& [path, _] : dir.files) {
        const std::string folder = path.parent_path().string(), name = path.filename().string();
        const bool ours = std::any_of(nodes.begin(), nodes.end(), [&](const NodeSpec& n) { return n.name == folder; });
        if (!ours || planned.contains(path) || name.starts_with('.')) continue;
        plan.warnings.push_back(path.string() + (name.find("ca-key") != std::string::npos
                                                     ? ": a CA key in a node's folder; delete it, CA keys belong in "
                                                       "ca/ only"
                                                     : ": not written by this spec; remove it if it is stale"));
    }
}

}  // namespace

const FileState* DirSnapshot::find(const fs::path& path) const {
    const auto it = files.find(path);
    return it == files.end() ? nullptr : &it->second;
}

std::string_view action_name(FileAction action) {
    switch (action) {
        case FileAction::Create:
            return "create";
        case FileAction::Update:
            return "update";
        case FileAction::Unchanged:
            return "unchanged";
        case FileAction::Conflict:
            return "conflict";
    }
    return "?";
}

bool Plan::changed() const {
    return !removed.empty() || std::any_of(files.begin(), files.end(),
                                           [](const PlannedFile& f) { return f.action != FileAction::Unchanged; });
}

size_t Plan::to_issue() const {
    return std::count_if(certs.begin(), certs.end(),
                         [](const PlannedCert& c) { return !c.entry.kind->is_ca() && !c.reason.empty(); });
}

const PlannedFile* Plan::file(const fs::path& path) const {
    const auto it = std::lower_bound(files.begin(), files.end(), path,
                                     [](const PlannedFile& f, const fs::path& p) { return f.path < p; });
    return it != files.end() && it->path == path ? &*it : nullptr;
}

std::vector<const PlannedFile*> Plan::conflicts() const {
    std::vector<const PlannedFile*> out;
    for (const auto& f : files)
        if (f.action == FileAction::Conflict) out.push_back(&f);
    return out;
}

Plan make_plan(const Spec& spec, const DirSnapshot& dir, const PlanOptions& o) {
    Plan plan;
    plan.revoked = plan.revoked_read = dir.revoked;  // render (no certificates) keeps the record as it is
    const bool single = !o.only_node.empty();
    const std::vector<NodeSpec>& members = single ? o.members : spec.nodes;
    std::vector<NodeSpec> nodes;
    std::copy_if(members.begin(), members.end(), std::back_inserter(nodes),
                 [&](const NodeSpec& n) { return !single || n.name == o.only_node; });
    if (single && nodes.empty())
        throw Error(Code::Internal, "add-node: node " + o.only_node + " is not among the members");
    if (o.certificates) {
        std::vector<Replacement> replace;
        const auto cas = plan_certs(spec, spec_certificates(spec, nodes, !single), dir, o, plan, replace);
        add_cert_files(plan, dir, replace);
        add_ca_copies(plan, ca_copies(spec, nodes, !single), cas);
        plan_crls(spec, nodes, dir, o, plan);
        add_rotation_record(plan, dir, o);
    }
    std::vector<RenderedFile> rendered;
    for (const auto& n : nodes)
        for (auto& r : render_node(spec, n, members, o.render)) rendered.push_back(std::move(r));
    if (o.render.compose && !single) rendered.push_back(render_compose(spec, o.render));
    for (auto& r : rendered) {
        PlannedFile f;
        f.path = r.path;
        f.mode = r.mode;
        f.content = std::move(r.content);
        f.rendered = true;
        plan.files.push_back(std::move(f));
    }
    std::sort(plan.files.begin(), plan.files.end(),
              [](const PlannedFile& a, const PlannedFile& b) { return a.path < b.path; });
    // --force-new-ca asks for every file made from the new CA: those replace whatever is there.
    set_owners(plan, spec, nodes);
    for (auto& f : plan.files) decide(f, dir, o.force || (o.force_new_ca && (f.cert || !f.crls.empty())));
    plan.written = dir.written;
    plan.renew_before = dir.renew_before;
    if (o.certificates) warn_strays(plan, dir, nodes);
    return plan;
}

std::string text_diff(const std::string& before, const std::string& after, const std::string& path) {
    auto lines = [](const std::string& s) {
        std::vector<std::string> out;
        for (size_t at = 0; at < s.size();) {
            const size_t nl = s.find('\n', at);
            out.push_back(s.substr(at, nl == std::string::npos ? std::string::npos : nl - at));
            at = nl == std::string::npos ? s.size() : nl + 1;
        }
        return out;
    };
    const auto a = lines(before), b = lines(after);
    // Longest common subsequence table, from the end (config files are a few hundred lines at most).
    std::vector<std::vector<unsigned>> lcs(a.size() + 1, std::vector<unsigned>(b.size() + 1, 0));
    for (size_t i = a.size(); i-- > 0;)
        for (size_t j = b.size(); j-- > 0;)
            lcs[i][j] = a[i] == b[j] ? lcs[i + 1][j + 1] + 1 : std::max(lcs[i + 1][j], lcs[i][j + 1]);
    std::string out = "--- a/" + path + "\n+++ b/" + path + "\n";
    bool in_hunk = false;
    size_t i = 0, j = 0;
    while (i < a.size() || j < b.size()) {
        if (i < a.size() && j < b.size() && a[i] == b[j]) {
            ++i, ++j, in_hunk = false;
            continue;
        }
        if (!in_hunk) out += "@@ line " + std::to_string(j + 1) + " @@\n";
        in_hunk = true;
        if (i < a.size() && (j == b.size() || lcs[i + 1][j] >= lcs[i][j + 1]))
            out += "-" + a[i++] + "\n";
        else
            out += "+" + b[j++] + "\n";
    }
    return out;
}

std::string plan_diff(const Plan& plan) {
    std::string out;
    for (const auto& f : plan.files)
        if (f.rendered && (f.action == FileAction::Update || f.action == FileAction::Conflict) &&
            f.old_content != f.content)
            out += text_diff(f.old_content, f.content, f.path.string());
    return out;
}

std::string manifest_hash(std::string_view content) { return sha256_hex(content); }

}  // namespace trellis::cluster
