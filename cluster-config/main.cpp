// cluster-config: one cluster spec in, every node's certificates and backend.yml out;
// and lint of configurations that already exist. Thin: flags, files, exit codes.
#include <chrono>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "cli/app.hpp"
#include "cluster/backend_config.hpp"
#include "cluster/expiry.hpp"
#include "cluster/lint.hpp"
#include "cluster/owner.hpp"
#include "cluster/provision.hpp"
#include "cluster/render.hpp"
#include "cluster/rotation.hpp"
#include "cluster/spec.hpp"
#include "core/cli.hpp"
#include "core/duration.hpp"
#include "core/files.hpp"
#include "core/host.hpp"
#include "pki/policy.hpp"
#include "pki/process.hpp"
#include "pki/verify.hpp"
#include "restore.hpp"
#include "store/etcd_process.hpp"
#include "store/snapshot.hpp"

namespace fs = std::filesystem;
using namespace trellis;
using namespace trellis::cluster;

namespace {

constexpr std::string_view kTool = "cluster-config";
constexpr const char* kThreadsHelp = "threads for keys, signatures and writing files (default: one per core)";

constexpr const char* kFooter = R"(
Examples:
  cluster-config provision examples/loopback-3.yml --out cluster
  cluster-config render examples/guide-10.0.0.yml --out rendered
  cluster-config add-node examples/loopback-3.yml --name backend-4 --address 127.0.0.14 --out cluster
  cluster-config lint cluster/backend-1/backend.yml cluster/backend-2 cluster/backend-3
  cluster-config restore examples/loopback-3.yml --out cluster --snapshot backup.db --state-root restored
  cluster-config check-expiration cluster --within 2160h
  cluster-config renew examples/loopback-3.yml --out cluster --name backend-1-api
  cluster-config revoke examples/loopback-3.yml --out cluster admin
  cluster-config rotate-ca examples/loopback-3.yml --out cluster --ca client --stage trust

The spec format is in docs/cluster-spec.md, the commands in docs/cluster-config.md,
lint's findings in docs/lint.md, renewal and revocation in docs/day2.md. Errors: cluster-config: error: MESSAGE (code N) on
stderr, or {"code":N,"message":"..."} on stdout with --json or --format json.
Exit codes: 0 ok (lint: clean; --check: nothing to change), 1 failure or lint findings,
2 bad command line, 5 --check/--diff: changes are pending, 6 check-expiration: a
certificate is inside the window or expired (docs/exit-codes.md).)";

struct Options {
    std::string format = "text";
    std::string spec;
    std::string out;
    std::string paths;
    bool compose = false;
    std::string compose_image = "trellis:latest";
    bool json = false;
    bool check = false;
    bool diff = false;
    bool force = false;
    bool force_new_ca = false;
    unsigned threads = 0;
    std::string name, address;
    std::vector<std::string> names;
    std::vector<std::string> renew_names;
    std::vector<std::string> revoke_names;
    std::vector<std::string> lint_paths;
    std::string dir;
    std::optional<std::string> within;
    bool no_files = false;
    std::string expiry_warning = "720h";
    std::string snapshot, state_root, etcdctl;
    std::string rotate_ca, stage;
    bool status = false;
};

// Fails with every problem: each but the last as an error line (cli::run prints the last), or with --json
// all of them in the one JSON error object, so that a script sees every problem too.
[[noreturn]] void fail_with_all(Code code, const std::vector<std::string>& problems, bool json) {
    if (json) {
        std::string all;
        for (const auto& p : problems) all += (all.empty() ? "" : "; ") + p;
        throw Error(code, all);
    }
    for (size_t i = 0; i + 1 < problems.size(); ++i)
        std::cerr << cli::error_line(kTool, Error(code, problems[i])) << '\n';
    throw Error(code, problems.back());
}

// Reads and checks the spec ("-": standard input).
Spec load(const std::string& path, bool json, Warnings& warnings) {
    const std::string text = read_input(path);
    SpecResult r = parse_spec(text, path == "-" ? "<stdin>" : path);
    warnings.insert(warnings.end(), r.warnings.begin(), r.warnings.end());
    if (!r.errors.empty()) {
        if (!json) cli::print_warnings(kTool, r.warnings);
        warnings.clear();
        fail_with_all(Code::SpecInvalid, r.errors, json);
    }
    resolve_owners(*r.spec);  // owner: as this machine's IDs, which the plan compares with DIR's
    return std::move(*r.spec);
}

RenderOptions render_options(const Options& o) {
    if (!o.paths.empty() && !fs::path(o.paths).is_absolute())
        throw Error(Code::Usage, "--paths " + o.paths + ": must be an absolute directory such as /etc/trellis");
    RenderOptions r;
    r.paths = o.paths;
    r.compose = o.compose;
    r.compose_image = o.compose_image;
    return r;
}

PlanOptions plan_options(const Options& o) {
    PlanOptions p;
    p.render = render_options(o);
    p.force = o.force;
    p.force_new_ca = o.force_new_ca;
    return p;
}

int report(ProvisionResult r, const Options& o, Warnings& warnings) {
    warnings.insert(warnings.end(), r.warnings.begin(), r.warnings.end());
    // --check/--diff tell a script (Ansible's check mode) whether anything would change by the exit code.
    const int rc = (o.check || o.diff) && r.changed ? cli::kExitPending : cli::kExitOk;
    if (o.json) {
        r.warnings = warnings;  // the spec's and provisioning's, all in the JSON
        std::cout << r.to_json() << '\n';
        warnings.clear();
        return rc;
    }
    size_t written = 0;
    for (const auto& f : r.files) {
        if (f.action == FileAction::Unchanged) continue;
        ++written;
        const std::string verb = f.action == FileAction::Conflict ? "keep" : std::string(action_name(f.action));
        std::cout << (o.check && f.action != FileAction::Conflict ? "would " : "") << verb << ' '
                  << (fs::path(o.out) / f.path).string() << (f.reason.empty() ? "" : " (" + f.reason + ")") << '\n';
    }
    std::cout << "changed: " << (r.changed ? "true" : "false") << " (" << written << " of " << r.files.size()
              << " files " << (o.check ? "would change" : "written") << ", " << r.certificates_issued
              << " certificates " << (o.check ? "to issue" : "issued") << ")\n";
    return rc;
}

// Plans, prints the plan (--check) or its diff (--diff), or applies it.
int plan_and_apply(const Spec& spec, const PlanOptions& po, const Options& o, Warnings& warnings) {
    // A run killed after its commit point is finished first, so the plan sees what that run wrote and a
    // re-run (of a rotate-ca stage, say) issues nothing twice.
    if (!o.check && !o.diff)
        for (const auto& note : recover_interrupted_commit(o.out)) std::cerr << kTool << ": " << note << '\n';
    std::optional<pki::CheckWarmup> warmup;  // from here on, not only from apply(): planning takes ~1 ms
    if (!o.check && !o.diff) warmup.emplace(spec.ca_key);
    const Plan plan = make_plan(spec, read_dir(o.out), po);
    if (o.diff) std::cout << plan_diff(plan);
    if (o.check || o.diff) return report(plan_result(plan), o, warnings);
    ProvisionOptions p;
    p.threads = o.threads;
    cli::Progress progress(kTool, "issuing certificates");
    p.progress = [&](size_t d, size_t t) { progress(d, t); };
    return report(apply(plan, spec, o.out, p), o, warnings);
}

int cmd_provision(const Options& o, Warnings& warnings) {
    const Spec spec = load(o.spec, o.json, warnings);  // the spec's problems first, then the flags'
    return plan_and_apply(spec, plan_options(o), o, warnings);
}

int cmd_add_node(const Options& o, Warnings& warnings) {
    const Spec spec = load(o.spec, o.json, warnings);
    NodeSpec node{o.name, o.address, o.names, spec.ports, 0, /*join_existing=*/true, {}};
    const auto problems = check_new_node(spec, node);
    if (!problems.empty()) fail_with_all(Code::InputInvalidValue, problems, o.json);
    PlanOptions p = plan_options(o);
    p.only_node = node.name;
    p.members = spec.nodes;
    p.members.push_back(node);
    const int rc = plan_and_apply(spec, p, o, warnings);
    if (!o.json && !o.check && !o.diff) {
        const std::string scheme(peer_scheme(spec));
        std::cerr << kTool << ": next: run `trellisctl cluster member-add " << node.name << ' ' << scheme << "://"
                  << host_for_url(node.address) << ':' << node.ports.peer << "`, start the node with "
                  << (fs::path(o.out) / node.name / "backend.yml").string() << ", and add it to the spec's nodes:\n";
        std::cout << spec_node_line(spec, node) << '\n';
    }
    return rc;
}

// renew: provision's plan with the chosen leaves (every leaf without --name) marked for re-issue.
int cmd_renew(const Options& o, Warnings& warnings) {
    const Spec spec = load(o.spec, o.json, warnings);
    PlanOptions p = plan_options(o);
    p.renew = o.renew_names;
    return plan_and_apply(spec, p, o, warnings);
}

// revoke: provision's plan with the named leaves' serials added to their CA's CRL, and the leaves re-issued.
int cmd_revoke(const Options& o, Warnings& warnings) {
    const Spec spec = load(o.spec, o.json, warnings);
    PlanOptions p = plan_options(o);
    p.revoke = o.revoke_names;
    return plan_and_apply(spec, p, o, warnings);
}

// rotate-ca --status: where each CA's rotation stands, from the record and the certificates in DIR.
int rotation_status_report(const Spec& spec, const Options& o) {
    const auto status = rotation_status(spec, read_dir(o.out));
    std::cout << (o.json ? rotation_status_json(status) : rotation_status_text(status));
    return cli::kExitOk;
}

// rotate-ca: one stage of a CA rotation as provision's plan (rotation.hpp), then what to do next.
int cmd_rotate_ca(const Options& o, Warnings& warnings) {
    const Spec spec = load(o.spec, o.json, warnings);
    if (o.status) return rotation_status_report(spec, o);
    if (o.rotate_ca.empty() || o.stage.empty())
        throw Error(Code::Usage, "rotate-ca needs --ca client|peer and --stage trust|reissue|finish, or --status");
    PlanOptions p = plan_options(o);
    const CertKind ca = o.rotate_ca == "peer" ? CertKind::PeerCa : CertKind::ClientCa;
    p.rotate = RotateOptions{ca, *find_stage(o.stage)};
    const int rc = plan_and_apply(spec, p, o, warnings);
    if (!o.json && !o.check && !o.diff)
        for (const auto& s : rotation_status(spec, read_dir(o.out)))
            if (s.ca->kind == ca) std::cerr << kTool << ": next: " << s.next_step << '\n';
    return rc;
}

// check-expiration: the report on stdout; exit 6 (CertRenewalDue) when anything is due or expired.
int cmd_check_expiration(const Options& o, Warnings&) {
    std::error_code ec;
    if (!fs::is_directory(o.dir, ec))
        throw Error(Code::FileReadFailed, located(o.dir, "not a directory (the --out DIR of provision)"));
    const DirSnapshot snap = read_dir(o.dir);
    const auto entries = find_certificates(o.dir);
    if (entries.empty())
        throw Error(Code::FileReadFailed, located(o.dir, "holds no certificates cluster-config would write"));
    const ExpiryReport r = expiry_report(entries, snap, expiry_window(o.within, snap), pki::Clock::now());
    std::cout << (o.json ? expiry_json(r) + "\n" : expiry_table(r));
    if (r.due() + r.expired() > 0)
        throw Error(Code::CertRenewalDue,
                    located(o.dir, std::to_string(r.expired()) + " expired, " + std::to_string(r.due()) +
                                       " inside the window of " + format_go_duration(r.window)));
    return cli::kExitOk;
}

int cmd_render(const Options& o, Warnings& warnings) {
    const Spec spec = load(o.spec, o.json, warnings);
    PlanOptions p = plan_options(o);
    p.certificates = false;
    return plan_and_apply(spec, p, o, warnings);
}

int cmd_restore(const Options& o, Warnings& warnings) {
    const Spec spec = load(o.spec, o.json, warnings);
    restore::RestoreRequest request;
    request.snapshot = o.snapshot;
    request.out = o.out;
    request.state_root = o.state_root;
    request.etcdctl = store::find_etcdctl(o.etcdctl, store::self_executable());
    request.provision.plan.render = render_options(o);
    request.provision.threads = o.threads;
    const restore::RestoreResult r = restore::restore_cluster(spec, request);
    if (o.json) {
        nlohmann::json members = nlohmann::json::array();
        for (const auto& m : r.members)
            members.push_back({{"name", m.name}, {"config", m.config.string()}, {"state-dir", m.state_dir.string()}});
        std::cout << nlohmann::json{{"revision", r.snapshot.revision},
                                    {"totalKey", r.snapshot.total_keys},
                                    {"sha256", r.snapshot.integrity.sha256},
                                    {"token", r.token},
                                    {"members", members},
                                    {"warnings", warnings}}
                         .dump()
                  << '\n';
        warnings.clear();
        return cli::kExitOk;
    }
    std::cout << "restored " << o.snapshot << " (revision " << r.snapshot.revision << ", " << r.snapshot.total_keys
              << " keys, sha256 " << r.snapshot.integrity.sha256 << ") into a new cluster of " << r.members.size()
              << " members with etcd-initial-cluster-token " << r.token << "\n";
    for (const auto& m : r.members)
        std::cout << "start " << m.name << ": trellis-backend start --config " << m.config.string() << " --state-dir "
                  << m.state_dir.string() << '\n';
    return cli::kExitOk;
}

// Every backend.yml a lint argument stands for: the file itself, DIR/backend.yml, or DIR/*/backend.yml.
std::vector<fs::path> expand(const std::string& arg) {
    std::error_code ec;
    if (!fs::is_directory(arg, ec)) return {arg};
    if (fs::exists(fs::path(arg) / "backend.yml", ec)) return {fs::path(arg) / "backend.yml"};
    std::vector<fs::path> out;
    for (const auto& e : fs::directory_iterator(arg, ec))
        if (fs::exists(e.path() / "backend.yml", ec)) out.push_back(e.path() / "backend.yml");
    std::sort(out.begin(), out.end());
    if (out.empty())
        throw Error(Code::FileReadFailed, located(arg, "no backend.yml in this directory or its subdirectories"));
    return out;
}

int cmd_lint(const Options& o, Warnings&) {
    LintOptions lo;
    lo.check_files = !o.no_files;
    lo.expiry_warning =
        std::chrono::duration_cast<std::chrono::hours>(pki::parse_duration(o.expiry_warning, "--expiry-warning"));
    std::vector<Finding> findings;
    std::vector<BackendConfig> configs;
    for (const auto& arg : o.lint_paths) {
        for (const auto& path : expand(arg)) {
            const std::string text = read_file(path);
            if (path.extension() == ".json") {
                auto f = lint_signing_policy(text, path.string());
                findings.insert(findings.end(), f.begin(), f.end());
                continue;
            }
            configs.push_back(BackendConfig::from_yaml(text, path.string()));
            auto f = lint_node(configs.back(), lo);
            findings.insert(findings.end(), f.begin(), f.end());
        }
    }
    auto cross = lint_cluster(configs, lo);
    findings.insert(findings.end(), cross.begin(), cross.end());
    size_t errors = 0;
    for (const auto& f : findings) errors += f.kind->severity == Severity::Error;
    if (o.json) {
        nlohmann::json list = nlohmann::json::array();
        for (const auto& f : findings)
            list.push_back({{"code", f.kind->code},
                            {"name", f.kind->name},
                            {"severity", f.kind->severity == Severity::Error ? "error" : "warning"},
                            {"file", f.file},
                            {"line", f.line},
                            {"message", f.message}});
        std::cout << nlohmann::json{{"clean", findings.empty()}, {"files", configs.size()}, {"findings", list}}.dump()
                  << '\n';
    } else {
        for (const auto& f : findings) std::cout << f.to_string() << '\n';
        if (findings.empty()) std::cerr << kTool << ": " << configs.size() << " configuration(s) clean\n";
    }
    if (!findings.empty())
        throw Error(Code::LintFindings, std::to_string(findings.size()) + " finding(s): " + std::to_string(errors) +
                                            " error(s), " + std::to_string(findings.size() - errors) + " warning(s)");
    return cli::kExitOk;
}

int run(int argc, char** argv, Warnings& warnings) {
    Options o;
    CLI::App app{"cluster-config -- render, provision and lint a Trellis cluster from one spec", std::string(kTool)};
    app.footer(kFooter);
    app.require_subcommand(1);
    cli::add_format_option(app, o.format, "text, or json: results (as --json) and errors as JSON on stdout");

    auto common = [&](CLI::App* sub, bool with_paths) {
        sub->add_option("SPEC", o.spec, "the cluster spec (docs/cluster-spec.md)")->required();
        sub->add_option("--out,-o", o.out, "output directory")->required();
        if (with_paths)
            sub->add_option("--paths", o.paths,
                            "absolute directory the node's files will live in on the node (e.g. /etc/trellis); "
                            "default: paths relative to backend.yml");
        sub->add_flag("--json", o.json,
                      "print a machine-readable summary on stdout (files, changed, warnings), or the error as "
                      "{\"code\":N,\"message\":\"...\"}; the same as --format json");
        sub->add_flag("--check", o.check,
                      "print the plan: what would change and why; write nothing; exit 5 if anything would change");
        sub->add_flag("--diff", o.diff,
                      "print the line changes of rendered files, then the plan; write nothing; exit 5 as --check");
        sub->add_flag("--force", o.force, "replace files changed by hand since cluster-config wrote them");
    };

    CLI::App* render =
        app.add_subcommand("render", "write every node's backend.yml (and etcd/systemd files), no certificates");
    common(render, true);
    // --compose: also for provision, which renders too.
    const auto add_compose = [&](CLI::App* sub) {
        sub->add_flag("--compose", o.compose,
                      "also write DIR/docker-compose.yml: the guide's docker layout, a backend per node on one "
                      "docker network (the nodes' /24) with its folder mounted read-only, an agent per agent client");
        sub->add_option("--compose-image", o.compose_image, "the image of its services [default: trellis:latest]");
    };
    add_compose(render);
    render->footer(R"(
Examples:
  cluster-config render examples/guide-10.0.0.yml --out rendered
  cluster-config render examples/external-etcd.yml --out rendered --paths /etc/trellis
  cluster-config render examples/guide-10.0.0.yml --out rendered --compose   (then provision, docker compose up)
Writes DIR/<node>/backend.yml and DIR/<node>/trellis-backend.service; with store: external also
DIR/<node>/etcd.sh and DIR/<node>/etcd.service. A file changed by hand since cluster-config wrote
it (DIR/.cluster-config.json keeps its SHA-256) is never replaced without --force: the run stops
and writes nothing. The spec may be - (standard input).)");

    CLI::App* prov = app.add_subcommand("provision", "issue the CA(s) and every certificate, and render every config");
    common(prov, true);
    prov->add_flag("--force-new-ca", o.force_new_ca, "replace the CA key(s) in DIR/ca (reissues every certificate)");
    prov->add_option("--threads", o.threads, kThreadsHelp);
    add_compose(prov);
    prov->footer(R"(
Examples:
  cluster-config provision examples/loopback-3.yml --out cluster
  cluster-config provision examples/loopback-3.yml --out cluster --check --json   (exit 5: changes pending)
  cluster-config provision cluster.yml --out cluster --paths /etc/trellis
DIR/ca/ holds the CA keys and never leaves this machine; DIR/<node>/ holds exactly what that node
needs (copy it to /etc/trellis on the node); DIR/clients/<name>/ the client certificates.
Running it again changes nothing unless the spec changed (new node, new SAN) or a certificate
is within pki.renew-before of expiring; only those are reissued, and every new chain is
verified with OpenSSL and Botan before anything is written. A file changed by hand since
cluster-config wrote it is never replaced without --force (--check shows it as "keep").
--check and --diff exit 0 when nothing would change and 5 when something would (Ansible:
changed_when: rc == 5, failed_when: rc not in [0, 5]). Off a terminal, a progress line
(issuing certificates 120/400 (24.0/s)) goes to stderr every TRELLIS_PROGRESS_INTERVAL
seconds (default 5, 0 for none). SPEC may be - (standard input); rendered files never name
the spec's path.)");

    CLI::App* add =
        app.add_subcommand("add-node", "issue a new node's certificates and render its backend.yml to join");
    common(add, true);
    add->add_option("--name", o.name, "the new node's name (its etcd member name)")->required();
    add->add_option("--address", o.address, "the new node's IP address or host name")->required();
    add->add_option("--names", o.names, "extra DNS names or IPs for its certificates")->delimiter(',');
    add->footer(R"(
Examples:
  cluster-config add-node examples/loopback-3.yml --name backend-4 --address 127.0.0.14 --out cluster
Uses the CA in DIR/ca (run provision first). The new backend.yml has etcd-initial-cluster-state:
existing and an initial cluster of the spec's nodes plus the new one. It prints the node's line
for the spec ("- {name: backend-4, address: 127.0.0.14, join: existing}"): run
`trellisctl cluster member-add NAME PEER-URL`, start the node, and add that line to the spec so
provision keeps it joined (and changes no other node's files).)");

    CLI::App* restore_cmd = app.add_subcommand(
        "restore", "turn a snapshot into a new cluster: configs with a new token, every member's data");
    common(restore_cmd, true);
    restore_cmd->add_option("--snapshot", o.snapshot, "the snapshot (trellisctl cluster snapshot save)")->required();
    restore_cmd->add_option("--state-root", o.state_root, "each member's state dir becomes STATE-ROOT/<node>")
        ->required();
    restore_cmd->add_option("--etcdctl", o.etcdctl,
                            "etcdctl to restore with [default: next to cluster-config, else on PATH]");
    restore_cmd->footer(R"(
Examples:
  cluster-config restore examples/loopback-3.yml --out cluster --snapshot backup.db --state-root /var/lib/trellis-restored
Checks the snapshot first (etcd's SHA-256, then etcdctl snapshot status), refuses if any
STATE-ROOT/<node>/etcd exists, re-renders DIR/<node>/backend.yml with a new cluster token
(certificates are reused or issued as provision does), and prepares each member's data with
`etcdctl snapshot restore`. Then start every node with
  trellis-backend start --config DIR/<node>/backend.yml --state-dir STATE-ROOT/<node>
(on real hosts: copy STATE-ROOT/<node> to the node's state-dir). See docs/recovery.md.)");

    CLI::App* renew = app.add_subcommand("renew", "re-issue leaf certificates now, under the existing CA");
    common(renew, true);
    renew->add_option("--name", o.renew_names,
                      "a leaf to renew, as check-expiration names it (backend-1, backend-1-peer, backend-1-api, "
                      "admin); repeat it; default: every leaf");
    renew->add_option("--threads", o.threads, kThreadsHelp);
    renew->footer(R"(
Examples:
  cluster-config renew examples/loopback-3.yml --out cluster --check
  cluster-config renew examples/loopback-3.yml --out cluster
  cluster-config renew examples/loopback-3.yml --out cluster --name backend-1-api --name admin
Provision's plan with the named leaves marked "renew requested": each gets a NEW key and a new
certificate from the CA in DIR/ca, verified with OpenSSL and Botan, all written as one set (or
nothing). The CAs and their keys are never touched; the nodes' CA copies stay as they are. A new
key, not the old one: a renewal then also ends the life of a key that may have leaked, and the
pair is copied and reloaded together anyway. Anything else provision would change (a new node,
a changed SAN, a leaf inside pki.renew-before) is in the same plan: --check and --diff show it.
Pass the --paths you provisioned with. An unknown --name is error 1106 (CertUnknownName).
Running nodes take the new files with no restart: copy DIR/<node>/ to each node (docs/day2.md),
then `trellisctl cluster certs` shows the new serials on every port.)");

    CLI::App* revoke = app.add_subcommand("revoke",
                                          "revoke leaf certificates: their CA's CRL lists them, then "
                                          "they are re-issued with a new key");
    common(revoke, true);
    revoke
        ->add_option("NAME", o.revoke_names,
                     "a leaf to revoke, as check-expiration names it (admin, agent-1, backend-1-peer, ...)")
        ->required();
    revoke->add_option("--threads", o.threads, kThreadsHelp);
    revoke->footer(R"(
Examples:
  cluster-config revoke examples/loopback-3.yml --out cluster admin --check
  cluster-config revoke examples/loopback-3.yml --out cluster admin agent-1 backend-1-peer
Adds each certificate's serial to its CA's CRL (DIR/ca/ca-crl.pem, DIR/ca/peer-ca-crl.pem, PEM),
re-signs that CRL and copies it into every node's folder next to the CA it belongs to; the
revoked serials are recorded in DIR/.cluster-config.json. Each revoked leaf is re-issued with a
NEW key, as renew does, so its owner keeps working with the new files. Running nodes need no
restart: etcd reads etcd-client-crl-file and etcd-peer-crl-file on every new connection, the
API re-reads crl-file on every handshake; copy DIR/<node>/ to each node (docs/day2.md).
A CA cannot be revoked (replace it: provision --force-new-ca). An unknown NAME is error 1106
(CertUnknownName). Pass the --paths you provisioned with.)");
    CLI::App* rotate = app.add_subcommand(
        "rotate-ca", "replace a CA in three resumable stages (trust, reissue, finish) with no outage");
    common(rotate, true);
    rotate->add_option("--ca", o.rotate_ca, "the CA to rotate: client (ca/ca.pem) or peer (ca/peer-ca.pem)")
        ->check(CLI::IsMember({"client", "peer"}));
    rotate->add_option("--stage", o.stage, "trust, reissue or finish, in that order")
        ->check(CLI::IsMember({"trust", "reissue", "finish"}));
    rotate->add_flag("--status", o.status, "say where each CA's rotation stands and what to do next; write nothing");
    rotate->add_option("--threads", o.threads, kThreadsHelp);
    rotate->footer(R"(
Examples:
  cluster-config rotate-ca examples/loopback-3.yml --out cluster --ca client --stage trust
  cluster-config rotate-ca examples/loopback-3.yml --out cluster --status --format json
Stages, each a plan like provision's (--check and --diff show it) written as one set or nothing:
  trust    a new CA beside the old one (DIR/ca/ca-next.pem, its key 0600 in DIR/ca only); every
           folder's copy of that CA becomes a bundle of old + new. Copy DIR/<node>/ to the nodes and
           DIR/clients/<name>/ca.pem to the clients, then `trellisctl cluster rollout` (etcd reads
           its trusted CA file only at start).
  reissue  every leaf of that CA re-issued under the new CA, each with a new key; bundles stay.
           Copy the folders again: running nodes take the new pairs with no restart.
  finish   the new CA becomes ca.pem / ca-key.pem; the old pair is moved aside to
           ca/ca-retired-<UTC stamp>.pem and -key.pem (never deleted); bundles hold the new CA only.
           Copy, then `trellisctl cluster rollout` again.
DIR/.cluster-config-rotation.json records the last stage done. A stage may be run again (after an
interruption, or to check): it issues nothing twice. A stage out of order is error 1107
(RotationOutOfOrder). provision and renew keep a rotation in progress as it is. docs/day2.md has
the runbook for real hosts.)");

    CLI::App* expiration = app.add_subcommand(
        "check-expiration", "list every CA and leaf under a provisioned DIR with its expiry; exit 6 if any is due");
    expiration->add_option("DIR", o.dir, "the directory provision wrote (--out)")->required();
    expiration->add_option("--within", o.within,
                           "the renewal window, a duration like 720h [default: the spec's pki.renew-before as "
                           "DIR/.cluster-config.json records it, else 720h]");
    expiration->footer(R"(
Examples:
  cluster-config check-expiration cluster
  cluster-config check-expiration cluster --within 2160h --format json
One row per certificate: name, kind, file, not-after (UTC), time left, the CA that signed it,
and the nodes or clients that use it (for a CA: every owner of a leaf it signs). STATE is ok,
renew (inside the window) or expired. Exit 0 when nothing is inside the window; exit 6 (error
1105 CertRenewalDue) when anything is inside it or expired, after printing the report; 1 when
DIR cannot be read; 2 for a bad command line. Renew leaves with `cluster-config renew`.)");

    CLI::App* lint = app.add_subcommand("lint", "check backend.yml files and the certificates and keys they name");
    lint->add_option("PATH", o.lint_paths, "backend.yml files, node folders, a provisioned DIR, or a ca-config.json")
        ->required();
    lint->add_flag("--json", o.json, "print the findings as JSON on stdout");
    lint->add_flag("--no-files", o.no_files, "check the configs only, not the certificates and keys they name");
    lint->add_option("--expiry-warning", o.expiry_warning,
                     "warn about certificates expiring within this (default 720h)");
    lint->footer(R"(
Examples:
  cluster-config lint cluster                      (every DIR/*/backend.yml, plus cross-node checks)
  cluster-config lint /etc/trellis/backend.yml
  cluster-config lint --json cluster/backend-*/backend.yml
Findings print as FILE:LINE: CODE NAME: MESSAGE; codes are stable (docs/lint.md).
Exit 0 clean, 1 findings, 2 bad command line.)");

    CLI::App* version = cli::add_version_command(app);
    if (cli::parse(app, argc, argv)) return cli::kExitOk;
    if (cli::format_of(o.format) == cli::Format::Json) o.json = true;
    if (*version) {
        std::cout << cli::version_text(kTool, o.json ? cli::Format::Json : cli::Format::Text);
        return cli::kExitOk;
    }
    if (render->parsed()) return cmd_render(o, warnings);
    if (prov->parsed()) return cmd_provision(o, warnings);
    if (add->parsed()) return cmd_add_node(o, warnings);
    if (lint->parsed()) return cmd_lint(o, warnings);
    if (restore_cmd->parsed()) return cmd_restore(o, warnings);
    if (renew->parsed()) return cmd_renew(o, warnings);
    if (revoke->parsed()) return cmd_revoke(o, warnings);
    if (rotate->parsed()) return cmd_rotate_ca(o, warnings);
    if (expiration->parsed()) return cmd_check_expiration(o, warnings);
    throw Error(Code::Internal, "no command was selected");  // CLI11 requires one
}

}  // namespace

int main(int argc, char** argv) {
    pki::skip_openssl_cleanup_at_exit();
    return cli::run(kTool, argc, argv, [&] {
        Warnings warnings;
        struct Flush {
            Warnings& w;
            ~Flush() { cli::print_warnings(kTool, w); }
        } flush{warnings};
        return run(argc, argv, warnings);
    });
}
