// Provisioning as plan -> apply.
//
//   DirSnapshot snap = read_dir(DIR);                  // the only read of DIR
//   Plan plan = make_plan(spec, snap, options);         // pure: spec + snapshot + clock -> actions with reasons
//   ProvisionResult r = apply(plan, spec, DIR, {...});  // keys, signatures, OpenSSL+Botan checks, one FileSet
//
// One overwrite rule for every file (rendered configs, certificates, keys): DIR/.cluster-config.json
// records a SHA-256 of each file as cluster-config last wrote it. A file that still matches its record
// (or already holds exactly what the plan wants) may be updated; any other existing file the plan would
// replace is a Conflict, kept unless PlanOptions::force, and apply() refuses to write anything while a
// Conflict remains. CA keys are never replaced without force_new_ca.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cluster/cert_table.hpp"
#include "cluster/render.hpp"
#include "cluster/rotation.hpp"
#include "cluster/spec.hpp"
#include "pki/certificate.hpp"

namespace trellis::cluster {

// The record of what cluster-config wrote, relative to DIR (a dot file: lint and the stray-file check skip it).
inline constexpr std::string_view kManifestFile = ".cluster-config.json";
// The manifest's record of the spec's pki.renew-before (a Go duration), which check-expiration defaults to.
inline constexpr const char* kManifestRenewBefore = "renew-before";

// One certificate `cluster-config revoke` revoked: its serial (decimal) and its name (cert_name()).
struct RevokedCert {
    std::string serial;
    std::string name;
    bool operator==(const RevokedCert&) const = default;
};
// The manifest's record of revoked certificates, per CA (the CA's cert_name(): "ca", "peer-ca"). Each CA's
// CRL lists exactly these serials.
using RevokedCerts = std::map<std::string, std::vector<RevokedCert>>;
inline constexpr const char* kManifestRevoked = "revoked";

struct FileState {
    std::string content;
    mode_t mode = 0;
};

// What an output DIR holds: DIR/ca/*, DIR/<folder>/*, DIR/clients/<name>/* and the manifest.
struct DirSnapshot {
    std::map<std::filesystem::path, FileState> files;      // relative to DIR
    std::map<std::filesystem::path, std::string> written;  // manifest: path -> SHA-256 (hex) last written
    std::optional<pki::Duration> renew_before;             // manifest: the spec's pki.renew-before when written
    RevokedCerts revoked;                                  // manifest: what revoke revoked
    const FileState* find(const std::filesystem::path& path) const;
};
// Reads DIR (a missing DIR is an empty snapshot). The one place the plan's input touches the disk.
DirSnapshot read_dir(const std::filesystem::path& dir);

enum class FileAction { Create, Update, Unchanged, Conflict };
std::string_view action_name(FileAction action);

struct PlannedCert {
    CertEntry entry;
    std::string reason;            // why it is (re)issued; empty: the existing one is kept
    std::optional<size_t> issuer;  // a leaf: the Plan::certs index of the CA that signs it
};

struct PlannedFile {
    std::filesystem::path path;  // relative to DIR
    FileAction action = FileAction::Unchanged;
    std::string reason;  // why it changes, or why it is a conflict
    mode_t mode = 0;
    std::string content;         // what it will hold, when the plan knows (rendered, kept, copied)
    std::optional<size_t> cert;  // else produced by apply: the cert (or key) of Plan::certs[*cert]
    bool key = false;            // ... its key rather than its certificate
    bool rendered = false;       // a rendered text file (--diff shows these)
    std::string old_content;     // what it holds now (Update, Conflict)
    // else produced by apply: the CRLs Plan::crls[i] for these i, one after the other (a rotation's copy
    // holds the old and the new CA's), each kept or signed then
    std::vector<size_t> crls;
    std::vector<size_t> bundle;  // a CA copy trusting two CAs during a rotation: their Plan::certs, in order
};

// A CA's CRL (DIR/ca/<ca>-crl.pem, copied next to every node's copy of the CA): kept, or signed by apply.
struct PlannedCrl {
    size_t ca;                         // in Plan::certs
    std::filesystem::path path;        // relative to DIR
    std::vector<std::string> serials;  // what it revokes (decimal)
    std::string reason;                // why it is (re)signed; empty: the existing one is kept
    std::string content;               // the existing one, when kept
};

struct Plan {
    std::vector<PlannedCert> certs;    // CAs first
    std::vector<PlannedFile> files;    // sorted by path
    std::vector<PlannedFile> removed;  // deleted by apply() after the commit: a finished rotation's new-CA pair
    Warnings warnings;
    std::map<std::filesystem::path, std::string> written;  // the manifest as read; apply() updates it
    std::optional<pki::Duration> renew_before;             // ... and its renew-before (check-expiration's window)
    std::vector<PlannedCrl> crls;                          // one per CA
    RevokedCerts revoked;                                  // the manifest's record after this plan
    RevokedCerts revoked_read;                             // ... and as read
    bool changed() const;
    size_t to_issue() const;
    std::vector<const PlannedFile*> conflicts() const;
    const PlannedFile* file(const std::filesystem::path& path) const;  // nullptr when not planned
};

struct PlanOptions {
    RenderOptions render;
    bool certificates = true;                        // false: only the rendered files (cluster-config render)
    bool force = false;                              // replace files changed by hand (Conflict becomes Update)
    bool force_new_ca = false;                       // replace the CA key(s), and so every certificate
    pki::Clock::time_point now = pki::Clock::now();  // renewal decisions are relative to this
    // cluster-config renew: re-issue these leaves now (names as cert_name() gives them; every leaf when the
    // list is empty) under the existing CA, each with a new key. A name the spec does not give a leaf is
    // Code::CertUnknownName; a missing CA is Code::FileReadFailed (renew never makes a CA).
    std::optional<std::vector<std::string>> renew;
    // cluster-config revoke: these leaves (cert_name()s) are revoked -- their serials go into their CA's CRL --
    // and re-issued with a new key, as renew does. Code::CertUnknownName for a name that is no leaf of the spec.
    std::optional<std::vector<std::string>> revoke;
    // add-node: plan only this node (one of `members`, with join: existing), joining the spec's cluster.
    std::string only_node;
    std::vector<NodeSpec> members;
    // cluster-config rotate-ca: run this stage of a CA rotation (rotation.hpp). Without it, a plan keeps the
    // rotation the record in DIR says is in progress. Code::RotationOutOfOrder for a stage out of order.
    std::optional<RotateOptions> rotate;
};

// Pure: decides every action and its reason. Code::FileReadFailed for a CA certificate without its key
// (or the reverse) and for add-node without a CA.
Plan make_plan(const Spec& spec, const DirSnapshot& dir, const PlanOptions& options);

// --diff: the line changes of the rendered files that change, as "--- a/PATH\n+++ b/PATH\n-old\n+new".
std::string plan_diff(const Plan& plan);
// The manifest's record of a file's content (SHA-256, hex).
std::string manifest_hash(std::string_view content);
// A minimal line diff of two texts (the shared part elided to "@@ line N @@" headers).
std::string text_diff(const std::string& before, const std::string& after, const std::string& path);

}  // namespace trellis::cluster
