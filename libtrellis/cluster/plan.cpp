// The plan half of provisioning: pure (no file system, no key generation), so every decision and its
// reason is unit-tested from a spec, a DirSnapshot and a clock.
#include "cluster/plan.hpp"

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <set>

#include "cluster/revocation.hpp"
#include "core/files.hpp"
#include "core/text.hpp"
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
    X509* ca_x = ca.certificate().get();
    if (X509_check_issued(ca_x, cert->get()) != X509_V_OK || X509_verify(cert->get(), X509_get0_pubkey(ca_x)) != 1)
        return "not signed by the current CA";
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
    PlannedCert& planned = plan.certs.emplace_back(PlannedCert{e, {}});
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
    if (!o.only_node.empty() || o.renew || o.revoke)
        throw Error(Code::FileReadFailed,
                    located(e.cert.string(), std::string(o.revoke  ? "revoke"
                                                         : o.renew ? "renew"
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
    std::string leaves;
    for (const auto& e : entries)
        if (!e.kind->is_ca()) leaves += (leaves.empty() ? "" : ", ") + cert_name(e);
    for (const auto& name : *o.renew) {
        const auto it =
            std::find_if(entries.begin(), entries.end(), [&](const CertEntry& e) { return cert_name(e) == name; });
        if (it != entries.end() && !it->kind->is_ca()) continue;
        const std::string why = it != entries.end()
                                    ? "is a CA; renew re-issues leaves under the existing CA, never the CA itself"
                                    : "no leaf certificate of that name in the spec (the leaves: " + leaves + ")";
        throw Error(Code::CertUnknownName, "--name " + excerpt(name) + ": " + why);
    }
}

struct CaPlan {
    std::optional<pki::Signer> signer;
    size_t index;  // in Plan::certs
};

void plan_certs(const Spec& spec, const std::vector<CertEntry>& entries, const DirSnapshot& dir, const PlanOptions& o,
                Plan& plan) {
    check_renew_names(entries, o);
    check_revoke_names(entries, dir, o);
    std::map<CertKind, CaPlan> cas;
    for (const auto& e : entries) {
        if (!e.kind->is_ca()) continue;
        const size_t index = plan.certs.size();
        cas.emplace(e.kind->kind, CaPlan{plan_ca(e, dir, spec, o, plan), index});
    }
    for (const auto& e : entries) {
        if (e.kind->is_ca()) continue;
        const CaPlan& ca = cas.at(*e.kind->issuer);
        const FileState* cert = dir.find(e.cert);
        const FileState* key = dir.find(e.key);
        std::string why;
        if (!ca.signer)
            why = plan.certs[ca.index].reason;
        else if (!cert || !key)
            why = "new " + std::string(e.kind->name) + " certificate";
        else
            why = reissue_reason(e, *cert, *key, *ca.signer, spec, o.now);
        if (why.empty() && renew_asked(e, o)) why = "renew requested";
        if (revoke_asked(e, o)) why = revoke_reason(e, dir);
        plan.certs.push_back({e, why});
    }
}

std::string sha256_hex(std::string_view data) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(), nullptr);
    return hex(digest, len);
}

// The one overwrite rule: what happens to `f` given what DIR holds.
void decide(PlannedFile& f, const DirSnapshot& dir, bool force) {
    const FileState* have = dir.find(f.path);
    if (!have) {
        f.action = FileAction::Create;
        if (f.reason.empty()) f.reason = "new file";
        return;
    }
    const bool same = !f.cert && !f.crl && have->content == f.content;
    if (same) {
        f.action = have->mode == f.mode ? FileAction::Unchanged : FileAction::Update;
        f.reason = f.action == FileAction::Unchanged
                       ? ""
                       : "mode is not " + std::string(f.mode == kSecretMode ? "0600" : "0644");
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

void add_cert_files(Plan& plan, const DirSnapshot& dir) {
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
            plan.files.push_back(std::move(f));
        }
    }
}

void add_ca_copies(Plan& plan, const std::vector<CaCopy>& copies) {
    for (const auto& copy : copies) {
        for (size_t i = 0; i < plan.certs.size(); ++i) {
            const PlannedCert& ca = plan.certs[i];
            if (ca.entry.kind->kind != copy.ca) continue;
            PlannedFile f;
            f.path = copy.path;
            f.mode = kPublicMode;
            f.reason = ca.reason;
            if (ca.reason.empty())
                f.content = plan.files[2 * i].content;  // the CA's own files come first, cert then key
            else
                f.cert = i;
            plan.files.push_back(std::move(f));
        }
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
    return std::any_of(files.begin(), files.end(),
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
        plan_certs(spec, spec_certificates(spec, nodes, !single), dir, o, plan);
        add_cert_files(plan, dir);
        add_ca_copies(plan, ca_copies(spec, nodes, !single));
        plan_crls(spec, nodes, dir, o, plan);
    }
    for (const auto& n : nodes)
        for (auto& r : render_node(spec, n, members, o.render))
            plan.files.push_back(
                {r.path, FileAction::Unchanged, "", r.mode, std::move(r.content), {}, false, true, {}, {}});
    std::sort(plan.files.begin(), plan.files.end(),
              [](const PlannedFile& a, const PlannedFile& b) { return a.path < b.path; });
    // --force-new-ca asks for every file made from the new CA: those replace whatever is there.
    for (auto& f : plan.files) decide(f, dir, o.force || (o.force_new_ca && (f.cert || f.crl)));
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
