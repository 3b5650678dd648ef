// The apply half of provisioning, and reading DIR for the plan: everything here touches the disk or
// makes keys; every decision was made by make_plan().
#include "cluster/provision.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <set>

#include <nlohmann/json.hpp>

#include "core/duration.hpp"
#include "core/files.hpp"
#include "core/parallel.hpp"
#include "pki/issue.hpp"
#include "pki/request.hpp"
#include "pki/verify.hpp"

namespace fs = std::filesystem;

namespace trellis::cluster {
namespace {

constexpr size_t kMaxSnapshotFiles = 200000;  // DIR holds 3 files per client: far more than any cluster needs

// A file's content, mode and owner as DIR holds it.
FileState file_state(const fs::path& p) {
    struct stat st {};
    if (::stat(p.c_str(), &st) != 0) return FileState{read_file(p), 0, {}};
    return FileState{read_file(p), static_cast<mode_t>(st.st_mode & 07777), FileOwner{st.st_uid, st.st_gid}};
}

// DIR/.cluster-config.json into the snapshot: what cluster-config wrote, and the renew-before it wrote it with.
void read_manifest(const fs::path& path, DirSnapshot& snap) {
    std::error_code ec;
    if (!fs::exists(path, ec)) return;
    auto damaged = [&](const std::string& why) {
        return Error(Code::FileReadFailed, located(path.string(), "not a manifest cluster-config wrote (" + why +
                                                                      "); remove it and provision with --force"));
    };
    try {
        const nlohmann::json manifest = nlohmann::json::parse(read_file(path));  // outlives the loop below
        for (const auto& [file, hash] : manifest.at("files").items()) snap.written[file] = hash.get<std::string>();
        if (manifest.contains(kManifestRevoked))
            for (const auto& [ca, list] : manifest.at(kManifestRevoked).items())
                for (const auto& r : list)
                    snap.revoked[ca].push_back({r.at("serial").get<std::string>(), r.at("name").get<std::string>()});
        if (!manifest.contains(kManifestRenewBefore)) return;  // written before it was recorded
        std::string why;
        const auto d = parse_go_duration(manifest.at(kManifestRenewBefore).get<std::string>(), &why);
        if (!d || d->count() < 0) throw damaged(std::string(kManifestRenewBefore) + ": " + (d ? "negative" : why));
        snap.renew_before = std::chrono::duration_cast<pki::Duration>(*d);
    } catch (const nlohmann::json::exception& e) {
        throw damaged(e.what());
    }
}

pki::CertificateRequest leaf_request(const Spec& spec, const CertEntry& e) {
    pki::CertificateRequest r;
    r.cn = e.cn;
    r.hosts = e.hosts;
    r.key = spec.leaf_key;
    const pki::Name n = leaf_name(spec, e);
    if (!n.O.empty() || !n.OU.empty()) r.names.push_back(n);
    return r;
}

pki::CertificateRequest ca_request(const Spec& spec, const CertEntry& e) {
    pki::CertificateRequest r;
    r.cn = e.cn;
    r.key = spec.ca_key;
    pki::Name n{spec.ca_subject.c, spec.ca_subject.st, spec.ca_subject.l, spec.ca_subject.o, spec.ca_subject.ou, ""};
    if (!(n.C + n.ST + n.L + n.O + n.OU).empty()) r.names.push_back(n);
    pki::CaOptions ca;
    ca.expiry = pki::format_duration(spec.ca_validity);
    r.ca = ca;
    return r;
}

// The PEMs of every planned certificate: kept ones from the plan, new ones filled in by apply.
// A CA ready to sign, with its checks of what it signs prepared once.
struct ReadyCa {
    explicit ReadyCa(pki::Signer s) : signer(std::move(s)), checker(signer.certificate()) {}
    pki::Signer signer;
    pki::LeafChecker checker;
};

struct Made {
    std::vector<pki::Issued> pems;
    std::map<size_t, ReadyCa> cas;  // by Plan::certs index (a rotation has two CAs of a kind)
};

void issue_one(const Spec& spec, const PlannedCert& c, const ReadyCa& ready, pki::Issued& into, Warnings& w) {
    const pki::Signer& ca = ready.signer;
    const pki::PrivateKey key = pki::PrivateKey::generate(spec.leaf_key);
    pki::Profile profile;
    profile.usages = kind_usages(*c.entry.kind, spec.leaf_key.algo);
    profile.expiry = spec.leaf_validity;
    const pki::Certificate cert = pki::issue_certificate(leaf_request(spec, c.entry), key, ca, profile, w);
    // Both stacks must accept the chain before anything is written (Code::CertVerifyFailed otherwise).
    ready.checker.require(cert, c.entry.kind->server_auth() ? pki::Purpose::ServerAuth : pki::Purpose::ClientAuth,
                          c.entry.cert.string());
    into.cert = cert.pem();
    into.key = key.pem();
}

// Generates keys and signs every leaf in `jobs` (indexes into plan.certs), across `threads` workers.
void issue_all(const Spec& spec, const Plan& plan, const std::vector<size_t>& jobs, Made& made,
               const ProvisionOptions& o, Warnings& warnings) {
    std::vector<Warnings> per_job(jobs.size());
    parallel_for(
        jobs.size(), o.threads,
        [&](size_t i) {
            const PlannedCert& c = plan.certs[jobs[i]];
            issue_one(spec, c, made.cas.at(*c.issuer), made.pems[jobs[i]], per_job[i]);
        },
        o.progress);
    std::set<std::string> unique;  // the same warning for a thousand agents is said once
    for (const auto& w : per_job) unique.insert(w.begin(), w.end());
    warnings.insert(warnings.end(), unique.begin(), unique.end());
}

// The CAs: kept ones loaded from the plan's contents, new ones made now.
void make_cas(const Spec& spec, const Plan& plan, Made& made, Warnings& warnings) {
    for (size_t i = 0; i < plan.certs.size(); ++i) {
        const PlannedCert& c = plan.certs[i];
        if (!c.entry.kind->is_ca()) continue;
        if (!c.reason.empty()) {
            pki::NewCa ca = pki::init_ca_signer(ca_request(spec, c.entry), warnings);
            made.pems[i] = std::move(ca.issued);
            made.cas.try_emplace(i, std::move(ca.signer));
            continue;
        }
        made.pems[i].cert = plan.file(c.entry.cert)->content;
        made.pems[i].key = plan.file(c.entry.key)->content;
        made.cas.try_emplace(i, pki::Signer(pki::Certificate::from_pem(made.pems[i].cert, c.entry.cert.string()),
                                            pki::PrivateKey::from_pem(made.pems[i].key, c.entry.key.string())));
    }
}

// The CRLs the plan (re)signs, by the CAs just loaded or made; valid as long as a new leaf is (provision
// re-signs them within renew-before of their nextUpdate, as it reissues leaves).
// A CRL file's content: its CRLs one after the other, each the one DIR holds or the one signed now.
std::string crl_text(const Plan& plan, const PlannedFile& f, const std::vector<std::string>& signed_now) {
    std::string out;
    for (const size_t i : f.crls) out += plan.crls[i].reason.empty() ? plan.crls[i].content : signed_now[i];
    return out;
}

std::vector<std::string> sign_crls(const Spec& spec, const Plan& plan, const Made& made) {
    std::vector<std::string> out(plan.crls.size());
    for (size_t i = 0; i < plan.crls.size(); ++i) {
        const PlannedCrl& crl = plan.crls[i];
        if (crl.reason.empty()) continue;
        const pki::Signer& ca = made.cas.at(crl.ca).signer;
        out[i] = pki::crl_pem(pki::generate_crl(crl.serials, ca, spec.leaf_validity));
    }
    return out;
}

nlohmann::json revoked_json(const RevokedCerts& revoked) {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& [ca, list] : revoked) {
        out[ca] = nlohmann::json::array();
        for (const auto& r : list) out[ca].push_back({{"serial", r.serial}, {"name", r.name}});
    }
    return out;
}

// The order files are moved into place: by path, except that a key comes right before its certificate.
// A running etcd reads both per handshake: keeping the two renames adjacent keeps the instant it could
// read a new key with an old certificate (and fail that one handshake) as short as it can be.
std::vector<size_t> commit_order(const Plan& plan) {
    auto pair_of = [&](size_t i) {
        const PlannedFile& f = plan.files[i];
        std::string name = f.path.string();
        if (f.key && name.ends_with("-key.pem")) name.replace(name.size() - 8, 8, ".pem");
        return std::pair{name, !f.key};
    };
    std::vector<size_t> order(plan.files.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return pair_of(a) < pair_of(b); });
    return order;
}

void refuse_conflicts(const Plan& plan, const fs::path& out) {
    const auto conflicts = plan.conflicts();
    if (conflicts.empty()) return;
    std::string more = conflicts.size() > 1
                           ? " (and " + std::to_string(conflicts.size() - 1) + " more file(s); --check lists them)"
                           : "";
    throw Error(Code::FileExists, located((out / conflicts.front()->path).string(), conflicts.front()->reason + more));
}

}  // namespace

DirSnapshot read_dir(const fs::path& dir) {
    DirSnapshot snap;
    std::error_code ec;
    // DIR/ca/x, DIR/<node>/x, DIR/clients/<name>/x: depth 0..2.
    for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec)) {
        if (it.depth() >= 2) it.disable_recursion_pending();
        if (!it->is_regular_file(ec) || it->path().filename() == kManifestFile) continue;
        if (snap.files.size() >= kMaxSnapshotFiles)
            throw Error(Code::FileReadFailed,
                        located(dir.string(), "holds more than " + std::to_string(kMaxSnapshotFiles) +
                                                  " files; is it the right output directory?"));
        snap.files[fs::relative(it->path(), dir)] = file_state(it->path());
    }
    read_manifest(dir / kManifestFile, snap);
    return snap;
}

std::string ProvisionResult::to_json() const {
    nlohmann::json j;
    j["changed"] = changed;
    j["certificates_issued"] = certificates_issued;
    j["files"] = nlohmann::json::array();
    for (const auto& f : files) {
        nlohmann::json e{{"path", f.path.string()}, {"action", std::string(action_name(f.action))}};
        if (!f.reason.empty()) e["reason"] = f.reason;
        j["files"].push_back(std::move(e));
    }
    if (!removed.empty()) {
        j["removed"] = nlohmann::json::array();
        for (const auto& f : removed) j["removed"].push_back({{"path", f.path.string()}, {"reason", f.reason}});
    }
    j["warnings"] = warnings;
    return j.dump();
}

ProvisionResult plan_result(const Plan& plan) {
    ProvisionResult r;
    for (const auto& f : plan.files) r.files.push_back({f.path, f.action, f.reason});
    r.changed = plan.changed();
    r.warnings = plan.warnings;
    r.certificates_issued = plan.to_issue();
    for (const auto& f : plan.removed) r.removed.push_back({f.path, FileAction::Update, f.reason});
    return r;
}

Produced produce(const Plan& plan, const Spec& spec, const ProvisionOptions& options) {
    const pki::CheckWarmup warmup(spec.ca_key);  // Botan's tables on the other core while OpenSSL makes keys
    Produced out;
    Made made;
    made.pems.resize(plan.certs.size());
    make_cas(spec, plan, made, out.warnings);
    std::vector<size_t> jobs;
    for (size_t i = 0; i < plan.certs.size(); ++i)
        if (!plan.certs[i].entry.kind->is_ca() && !plan.certs[i].reason.empty()) jobs.push_back(i);
    issue_all(spec, plan, jobs, made, options, out.warnings);
    const std::vector<std::string> crls = sign_crls(spec, plan, made);
    out.manifest = plan.written;
    for (const auto& f : plan.removed) out.manifest.erase(f.path);
    for (const auto& f : plan.files) {
        std::string content = !f.cert ? f.content : f.key ? made.pems[*f.cert].key : made.pems[*f.cert].cert;
        if (f.cert && !f.bundle.empty()) {  // a trust bundle with a CA made in this run
            std::vector<std::string> pems;
            for (const size_t i : f.bundle) pems.push_back(made.pems[i].cert);
            content = bundle_text(pems);
        }
        if (!f.crls.empty()) content = crl_text(plan, f, crls);
        out.manifest[f.path] = manifest_hash(content);
        out.files.push_back({f.path, FileState{std::move(content), f.mode, f.owner}});
    }
    return out;
}

ProvisionResult apply(const Plan& plan, const Spec& spec, const fs::path& out, const ProvisionOptions& options) {
    refuse_conflicts(plan, out);
    ProvisionResult result = plan_result(plan);
    Produced produced = produce(plan, spec, options);
    result.warnings.insert(result.warnings.end(), produced.warnings.begin(), produced.warnings.end());
    FileSet set(out);  // staged under DIR always, where recover_interrupted_commit(DIR) finds an interrupted run
    bool ca_files = false;
    for (const size_t i : commit_order(plan)) {
        if (plan.files[i].action == FileAction::Unchanged) continue;
        auto& [path, state] = produced.files[i];
        set.add(out / path, std::move(state.content), state.mode, state.owner);
        ca_files |= *path.begin() == "ca";
    }
    if (produced.manifest != plan.written || plan.renew_before != spec.renew_before ||
        plan.revoked != plan.revoked_read) {
        nlohmann::json files = nlohmann::json::object();
        for (const auto& [path, hash] : produced.manifest) files[path.string()] = hash;
        nlohmann::json manifest{{"files", files}, {kManifestRenewBefore, format_go_duration(spec.renew_before)}};
        if (!plan.revoked.empty()) manifest[kManifestRevoked] = revoked_json(plan.revoked);
        set.add(out / kManifestFile, manifest.dump(1) + "\n", kSecretMode);
    }
    std::error_code ec;
    if (ca_files && !fs::exists(out / "ca", ec)) {
        fs::create_directories(out / "ca", ec);
        ::chmod((out / "ca").c_str(), kCaFolderMode);  // CA keys are 0600; the folder says so too
    }
    set.commit(/*overwrite=*/true, options.threads);  // the plan vetted every replacement: conflicts were refused above
    // After the commit: a kill before this leaves files the next plan removes ("left by a finished rotation").
    for (const auto& f : plan.removed) fs::remove(out / f.path, ec);
    return result;
}

ProvisionResult provision(const Spec& spec, const fs::path& out, const ProvisionOptions& options) {
    const Plan plan = make_plan(spec, read_dir(out), options.plan);
    return options.check ? plan_result(plan) : apply(plan, spec, out, options);
}

}  // namespace trellis::cluster
