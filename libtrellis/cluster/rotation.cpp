#include "cluster/rotation.hpp"

#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "cluster/plan.hpp"
#include "core/strict_json.hpp"

namespace fs = std::filesystem;

namespace trellis::cluster {
namespace {

constexpr std::string_view kStageNames[] = {"trust", "reissue", "finish"};

// What to do after each stage is done, for --status and the CLI's "next:" line (the runbook's order).
std::string next_step_after(std::optional<RotationStage> done, CertKind ca) {
    const bool client = ca == CertKind::ClientCa;
    const std::string copy_trust = client ? "copy every DIR/<node>/ and DIR/clients/<name>/ca.pem to its host"
                                          : "copy every DIR/<node>/ to its node";
    if (!done) return "no rotation in progress; start one with --stage trust";
    switch (*done) {
        case RotationStage::Trust:
            return copy_trust + ", run `trellisctl cluster rollout`, then --stage reissue";
        case RotationStage::Reissue:
            return std::string(client ? "copy every DIR/<node>/ and DIR/clients/<name>/ to its host"
                                      : "copy every DIR/<node>/ to its node") +
                   " (no restart needed), then --stage finish";
        case RotationStage::Finish:
            break;
    }
    return copy_trust +
           " and run `trellisctl cluster rollout` (if not done yet): then the old CA is trusted "
           "nowhere; a new rotation starts with --stage trust";
}

std::optional<pki::Certificate> cert_in(const DirSnapshot& dir, const fs::path& path) {
    const FileState* f = dir.find(path);
    if (!f) return std::nullopt;
    return pki::Certificate::from_pem(f->content, path.string());
}

// The leaves of `ca` in the spec, by the CA that signed each; and the folders' copies of it.
void count_files(const Spec& spec, const DirSnapshot& dir, const CertEntry& ca, RotationStatus& s) {
    const auto current = cert_in(dir, ca.cert);
    const auto next = cert_in(dir, next_ca_entry(ca).cert);
    for (const auto& e : spec_certificates(spec)) {
        if (e.kind->is_ca() || *e.kind->issuer != ca.kind->kind) continue;
        ++s.leaves;
        const auto leaf = cert_in(dir, e.cert);
        if (!leaf) continue;
        s.under_current += current && signed_by(*leaf, *current);
        s.under_next += next && signed_by(*leaf, *next);
    }
    for (const auto& copy : ca_copies(spec, spec.nodes, true)) {
        if (copy.ca != ca.kind->kind || !dir.find(copy.path)) continue;
        ++s.copies;
        s.bundles += pki::Certificate::all_from_pem(dir.find(copy.path)->content, copy.path.string()).size() > 1;
    }
    if (current) s.serial = current->serial_decimal();
    if (next) s.next_serial = next->serial_decimal();
}

}  // namespace

std::string_view stage_name(RotationStage stage) { return kStageNames[static_cast<int>(stage)]; }

std::string_view ca_flag(CertKind ca) { return ca == CertKind::PeerCa ? "peer" : "client"; }

std::optional<RotationStage> find_stage(std::string_view name) {
    for (int i = 0; i < 3; ++i)
        if (kStageNames[i] == name) return static_cast<RotationStage>(i);
    return std::nullopt;
}

const RotationRecord::Entry* RotationRecord::find(CertKind ca) const {
    const auto it = cas.find(ca);
    return it == cas.end() ? nullptr : &it->second;
}

RotationRecord parse_rotation_record(const std::string* text) {
    RotationRecord record;
    if (!text) return record;
    const std::string file(kRotationFile);
    try {
        const nlohmann::json j = parse_json(*text, file);
        for (const auto& [name, entry] : j.at("rotations").items()) {
            const auto kinds = cert_kinds();
            const auto kind = std::find_if(kinds.begin(), kinds.end(),
                                           [&](const CertKindInfo& k) { return k.is_ca() && k.name == name; });
            const auto stage = find_stage(entry.at("stage").get<std::string>());
            if (kind == kinds.end() || !stage)
                throw Error(Code::FileReadFailed, located(file, "rotations." + excerpt(name) +
                                                                    ": not a CA and a stage cluster-config writes"));
            RotationRecord::Entry& e = record.cas[kind->kind];
            e.stage = *stage;
            for (const auto& [s, at] : entry.at("at").items()) e.at[s] = at.get<std::string>();
        }
    } catch (const nlohmann::json::exception& e) {
        throw Error(Code::FileReadFailed, located(file, std::string("not a record cluster-config wrote (") + e.what() +
                                                            "); restore it from a backup of DIR"));
    }
    return record;
}

std::string rotation_record_json(const RotationRecord& record) {
    nlohmann::json rotations = nlohmann::json::object();
    for (const auto& [kind, e] : record.cas)
        rotations[std::string(cert_kind(kind).name)] = {{"stage", std::string(stage_name(e.stage))}, {"at", e.at}};
    return nlohmann::json{{"rotations", rotations}}.dump(1) + "\n";
}

void check_stage_order(const CertKindInfo& ca, const RotationRecord& record, RotationStage wanted) {
    const RotationRecord::Entry* e = record.find(ca.kind);
    const std::optional<RotationStage> done = e ? std::optional(e->stage) : std::nullopt;
    const bool in_progress = done && *done != RotationStage::Finish;
    bool ok = false;
    switch (wanted) {
        case RotationStage::Trust:
            ok = !in_progress || *done == RotationStage::Trust;
            break;
        case RotationStage::Reissue:
            ok = in_progress;
            break;
        case RotationStage::Finish:
            ok = done && *done != RotationStage::Trust;
            break;
    }
    if (ok) return;
    const std::string last = done ? "the last stage done is " + std::string(stage_name(*done)) : "no stage is done";
    const std::string next =
        in_progress ? "--stage " + std::string(stage_name(static_cast<RotationStage>(static_cast<int>(*done) + 1)))
                    : "--stage trust";
    throw Error(Code::RotationOutOfOrder,
                located(kRotationFile, "rotate-ca --ca " + std::string(ca_flag(ca.kind)) + " --stage " +
                                           std::string(stage_name(wanted)) + " is out of order: " + last + "; run " +
                                           next + " next (--status shows where the rotation stands)"));
}

std::optional<RotationStage> effective_stage(CertKind ca, const RotationRecord& record,
                                             const std::optional<RotateOptions>& rotate) {
    const RotationRecord::Entry* e = record.find(ca);
    const bool in_progress = e && e->stage != RotationStage::Finish;
    if (rotate && rotate->ca == ca && (rotate->stage != RotationStage::Finish || in_progress)) return rotate->stage;
    if (in_progress) return e->stage;
    return std::nullopt;
}

CertEntry next_ca_entry(const CertEntry& ca) {
    CertEntry e = ca;
    const std::string stem = ca.cert.stem().string();
    e.cert = ca.cert.parent_path() / (stem + "-next.pem");
    e.key = ca.cert.parent_path() / (stem + "-next-key.pem");
    return e;
}

std::pair<fs::path, fs::path> retired_paths(const CertEntry& ca, const std::string& stamp) {
    const std::string stem = ca.cert.stem().string() + "-retired-" + stamp;
    return {ca.cert.parent_path() / (stem + ".pem"), ca.cert.parent_path() / (stem + "-key.pem")};
}

std::string bundle_text(const std::vector<std::string>& pems) {
    std::string out;
    for (const auto& p : pems) out += p + (p.ends_with('\n') ? "" : "\n");
    return out;
}

bool signed_by(const pki::Certificate& cert, const pki::Certificate& ca) {
    return X509_check_issued(ca.get(), cert.get()) == X509_V_OK &&
           X509_verify(cert.get(), X509_get0_pubkey(ca.get())) == 1;
}

std::vector<RotationStatus> rotation_status(const Spec& spec, const DirSnapshot& dir) {
    const RotationRecord record =
        parse_rotation_record(dir.find(kRotationFile) ? &dir.find(kRotationFile)->content : nullptr);
    std::vector<RotationStatus> out;
    for (const auto& ca : spec_certificates(spec, {}, false)) {
        RotationStatus s;
        s.ca = ca.kind;
        if (const auto* e = record.find(ca.kind->kind)) s.done = e->stage, s.at = e->at;
        count_files(spec, dir, ca, s);
        s.next_step = next_step_after(s.done, ca.kind->kind);
        out.push_back(std::move(s));
    }
    return out;
}

std::string rotation_status_text(const std::vector<RotationStatus>& status) {
    std::string out;
    for (const auto& s : status) {
        std::string done = "never rotated";
        if (s.done) {
            const auto at = s.at.find(std::string(stage_name(*s.done)));
            done = std::string(stage_name(*s.done)) + " done" + (at == s.at.end() ? "" : " at " + at->second);
        }
        out += std::string(s.ca->name) + ": " + done + "; CA serial " + (s.serial.empty() ? "-" : s.serial) +
               (s.next_serial.empty() ? "" : ", new CA serial " + s.next_serial) + "; leaves under the CA " +
               std::to_string(s.under_current) + "/" + std::to_string(s.leaves) +
               (s.next_serial.empty() ? "" : ", under the new CA " + std::to_string(s.under_next)) + "; copies " +
               std::to_string(s.copies) + " (" + std::to_string(s.bundles) +
               " trusting old + new)\n  next: " + s.next_step + "\n";
    }
    return out;
}

std::string rotation_status_json(const std::vector<RotationStatus>& status) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& s : status)
        list.push_back({{"ca", std::string(s.ca->name)},
                        {"done", s.done ? nlohmann::json(std::string(stage_name(*s.done))) : nlohmann::json(nullptr)},
                        {"at", s.at},
                        {"serial", s.serial},
                        {"next_serial", s.next_serial},
                        {"leaves", s.leaves},
                        {"under_current", s.under_current},
                        {"under_next", s.under_next},
                        {"copies", s.copies},
                        {"bundles", s.bundles},
                        {"next_step", s.next_step}});
    return nlohmann::json{{"rotations", list}}.dump() + "\n";
}

}  // namespace trellis::cluster
