// CA rotation in stages (cluster-config rotate-ca), so that at every moment each node trusts the CA of every
// certificate it is shown:
//
//   trust    a new CA beside the old one in DIR/ca (ca-next.pem, ca-next-key.pem); every folder's copy of
//            that CA becomes a bundle of old + new                   -> copy, `trellisctl cluster rollout`
//   reissue  every leaf of that CA re-issued under the new one (new keys); bundles stay old + new -> copy
//   finish   the new CA becomes ca.pem / ca-key.pem, the old pair is moved aside (ca-retired-STAMP*.pem,
//            never deleted), bundles hold the new CA only          -> copy, `trellisctl cluster rollout`
//
// Which stage is done is recorded in DIR/.cluster-config-rotation.json, written in the same FileSet as the
// stage's files: a stage is done entirely or not at all, and make_plan() reads the record from the snapshot,
// so every plan (provision and renew as well) keeps a rotation in progress as it is.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/cert_table.hpp"
#include "pki/certificate.hpp"

namespace trellis::cluster {

enum class RotationStage { Trust, Reissue, Finish };
std::string_view stage_name(RotationStage stage);
// The CA as rotate-ca --ca names it: "client" or "peer".
std::string_view ca_flag(CertKind ca);
std::optional<RotationStage> find_stage(std::string_view name);

// The record, relative to DIR (a dot file: read_dir keeps it in the snapshot, lint skips it).
inline constexpr std::string_view kRotationFile = ".cluster-config-rotation.json";

// PlanOptions::rotate: run this stage for this CA (ClientCa or PeerCa).
struct RotateOptions {
    CertKind ca = CertKind::ClientCa;
    RotationStage stage = RotationStage::Trust;
};

struct RotationRecord {
    struct Entry {
        RotationStage stage;                    // the last stage done
        std::map<std::string, std::string> at;  // stage name -> when it was done (utc_text)
    };
    std::map<CertKind, Entry> cas;
    const Entry* find(CertKind ca) const;
};
// `text` is the record file's content (nullptr: no record). Code::FileReadFailed naming the file when damaged.
RotationRecord parse_rotation_record(const std::string* text);
std::string rotation_record_json(const RotationRecord& record);

// Refuses (Code::RotationOutOfOrder, one line naming the next stage to run) a stage that does not follow the
// last one done: trust after nothing or a finish (or again), reissue after trust (or again), finish after
// reissue (or again).
void check_stage_order(const CertKindInfo& ca, const RotationRecord& record, RotationStage wanted);

// The stage a plan must keep for `ca`: the stage asked for, else the one the record says is done, while the
// rotation is in progress (trust or reissue); nullopt when none is (a finish re-run included).
std::optional<RotationStage> effective_stage(CertKind ca, const RotationRecord& record,
                                             const std::optional<RotateOptions>& rotate);

// The CA being rotated in: the CA's entry with ca/<stem>-next.pem and ca/<stem>-next-key.pem.
CertEntry next_ca_entry(const CertEntry& ca);
// Where finish moves the old CA: ca/<stem>-retired-<stamp>.pem and its -key.pem.
std::pair<std::filesystem::path, std::filesystem::path> retired_paths(const CertEntry& ca, const std::string& stamp);

// Is `cert` issued and signed by `ca` (names and signature)?
bool signed_by(const pki::Certificate& cert, const pki::Certificate& ca);

// A CA copy that trusts several CAs: their PEMs one after the other, each ending in a newline.
std::string bundle_text(const std::vector<std::string>& pems);

struct DirSnapshot;

// --status: where the rotation of one CA stands, read from the record and the certificates in DIR.
struct RotationStatus {
    const CertKindInfo* ca = nullptr;
    std::optional<RotationStage> done;                     // the last stage done; nullopt: never rotated
    std::map<std::string, std::string> at;                 // stage -> when
    std::string serial, next_serial;                       // the CA's and the new CA's (empty: none in DIR)
    size_t leaves = 0, under_current = 0, under_next = 0;  // the spec's leaves of this CA, by signer
    size_t copies = 0, bundles = 0;                        // folders' copies of the CA, those with two CAs
    std::string next_step;                                 // what to do now, for humans
};
// Every CA the spec has (Code::FileReadFailed for a damaged record or certificate).
std::vector<RotationStatus> rotation_status(const Spec& spec, const DirSnapshot& dir);
std::string rotation_status_text(const std::vector<RotationStatus>& status);
std::string rotation_status_json(const std::vector<RotationStatus>& status);

}  // namespace trellis::cluster
