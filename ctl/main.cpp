// trellisctl: the admin client of a Trellis cluster, the guide's `sensuctl cluster`
// commands over the backend API (docs/trellisctl.md). Flags here; work in the ctl library.
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>

#include <CLI/CLI.hpp>

#include "certs.hpp"
#include "cli/app.hpp"
#include "commands.hpp"
#include "completion_scripts.hpp"
#include "core/cli.hpp"
#include "core/error.hpp"
#include "core/files.hpp"
#include "member_replace.hpp"
#include "rollout.hpp"
#include "settings.hpp"
#include "snapshot.hpp"
#include "validate.hpp"

namespace fs = std::filesystem;
using namespace trellis;
using namespace trellis::ctl;

namespace {

constexpr std::string_view kTool = "trellisctl";

const char* getenv_fn(const char* name) { return std::getenv(name); }

void warn(const std::string& line) { std::cerr << kTool << ": warning: " << line << '\n'; }

struct Flags {
    std::vector<std::string> url;
    std::string trusted_ca_file, cert_file, key_file, timeout, config, format = "table";
    bool insecure = false;
    bool overwrite = false;
};

Layer flag_layer(const Flags& f) {
    Layer layer;
    if (!f.url.empty()) layer[Key::Url] = Value{f.url, "--url"};
    const std::pair<Key, const std::string*> singles[] = {{Key::TrustedCaFile, &f.trusted_ca_file},
                                                          {Key::CertFile, &f.cert_file},
                                                          {Key::KeyFile, &f.key_file},
                                                          {Key::Timeout, &f.timeout}};
    for (const auto& [key, value] : singles)
        if (!value->empty()) layer[key] = Value{{*value}, "--" + std::string(key_info(key).name)};
    return layer;
}

fs::path config_path(const Flags& f) {
    if (!f.config.empty()) return f.config;
    if (const char* env = std::getenv("TRELLISCTL_CONFIG"); env != nullptr && *env != '\0') return env;
    return default_config_path(getenv_fn);
}

// The config file's layer; a missing file is simply no layer, unless the user named it.
Layer config_layer(const Flags& f) {
    const fs::path path = config_path(f);
    if (path.empty()) return {};
    std::error_code ec;
    if (!fs::exists(path, ec)) {
        if (!f.config.empty()) throw Error(Code::FileReadFailed, "--config: " + path.string() + " does not exist");
        return {};
    }
    return file_layer(read_file(path), path.string());
}

Settings settings_for(const Flags& f, bool with_env) {
    std::vector<Layer> layers{flag_layer(f)};
    if (with_env) layers.push_back(env_layer(getenv_fn));
    layers.push_back(config_layer(f));
    return resolve(layers);
}

int configure(const Flags& f, std::ostream& out) {
    const fs::path path = config_path(f);
    if (path.empty())
        throw Error(Code::Usage, "configure: neither HOME nor XDG_CONFIG_HOME is set: pass --config FILE");
    // The environment is for one shell; the file records flags on top of what it already had.
    Settings settings = settings_for(f, false);
    for (std::string* file : {&settings.trusted_ca_file, &settings.cert_file, &settings.key_file}) {
        *file = fs::absolute(*file).lexically_normal().string();
        std::error_code ec;
        if (!fs::exists(*file, ec)) warn(*file + " does not exist (yet)");
    }
    const std::string text = render_config(settings);
    std::error_code ec;
    if (fs::exists(path, ec) && !f.overwrite && read_file(path) != text)
        throw Error(Code::FileExists, path.string() + " exists with other settings: pass --overwrite to replace it");
    fs::create_directories(path.parent_path(), ec);
    if (ec) throw Error(Code::FileWriteFailed, "cannot create " + path.parent_path().string() + ": " + ec.message());
    write_file_atomic(path, text, kSecretMode);
    out << "wrote " << path.string() << '\n';
    return 0;
}

int print_version(Format format, std::ostream& out) {
    if (format == Format::Yaml)
        out << render_document({{"tool", kTool}, {"version", cli::version()}}, format);
    else
        out << cli::version_text(kTool, format == Format::Json ? cli::Format::Json : cli::Format::Text);
    return 0;
}

std::string examples(std::initializer_list<std::string_view> lines) {
    std::string text = "\nExamples:\n";
    for (const auto& line : lines) text += "  " + std::string(line) + "\n";
    return text;
}

int run(int argc, char** argv) {
    CLI::App app{"trellisctl: manage a Trellis cluster through its backends' API (mutual TLS)", std::string(kTool)};
    app.fallthrough();
    app.require_subcommand(1);
    app.set_version_flag("--version", std::string(cli::version()));
    app.footer(
        examples({"trellisctl cluster health",
                  "trellisctl --url https://127.0.0.11:8080,https://127.0.0.12:8080 cluster member-list",
                  "trellisctl configure --url https://127.0.0.11:8080 --trusted-ca-file out/clients/admin/ca.pem \\",
                  "    --cert-file out/clients/admin/admin.pem --key-file out/clients/admin/admin-key.pem", "",
                  "Exit codes: 0 ok, 1 cluster error or unhealthy, 2 usage, 3 cannot connect, TLS refused or not "
                  "allowed (HTTP 401, 403).",
                  "Errors: trellisctl: error: MESSAGE (code N) on stderr; with --format json, one",
                  "{\"code\":N,\"message\":\"...\"} line on stdout (docs/exit-codes.md).",
                  "Connection settings: flag > TRELLISCTL_* environment > ~/.config/trellis/cli.yml > default."}));

    Flags f;
    const std::string conn = "Connection";
    app.add_option("--url", f.url, std::string(key_info(Key::Url).help) + " [env TRELLISCTL_URL]")
        ->allow_extra_args(false)
        ->group(conn);
    app.add_option("--trusted-ca-file", f.trusted_ca_file,
                   std::string(key_info(Key::TrustedCaFile).help) + " [env TRELLISCTL_TRUSTED_CA_FILE]")
        ->group(conn);
    app.add_option("--cert-file", f.cert_file,
                   std::string(key_info(Key::CertFile).help) + " [env TRELLISCTL_CERT_FILE]")
        ->group(conn);
    app.add_option("--key-file", f.key_file, std::string(key_info(Key::KeyFile).help) + " [env TRELLISCTL_KEY_FILE]")
        ->group(conn);
    app.add_option("--timeout", f.timeout, std::string(key_info(Key::Timeout).help) + " [env TRELLISCTL_TIMEOUT]")
        ->group(conn);
    app.add_flag("--insecure-skip-tls-verify", f.insecure,
                 "do not verify the backend's certificate (prints a warning; for debugging only)")
        ->group(conn);
    app.add_option("--config", f.config, "settings file [env TRELLISCTL_CONFIG; default ~/.config/trellis/cli.yml]")
        ->group(conn);
    app.add_option("--format", f.format, "output: table (as the guide shows), json or yaml")->group("Output");

    auto* cluster =
        app.add_subcommand("cluster", "cluster membership and health (the guide's sensuctl cluster commands)");
    cluster->require_subcommand(1);
    cluster->footer(examples({"trellisctl cluster health", "trellisctl cluster member-list --format json"}));

    auto* health = cluster->add_subcommand(
        "health", "show every member's health and the etcd alarms; exit 0 only if all are healthy");
    health->footer(examples({"trellisctl cluster health",
                             "trellisctl cluster health --format json | jq '.ClusterHealth[] | select(.Healthy|not)'",
                             "trellisctl --url https://127.0.0.11:8080,https://127.0.0.12:8080 cluster health"}));

    std::string add_name, add_peers, render_spec, render_out;
    auto* add =
        cluster->add_subcommand("member-add", "add a member to the cluster and print the new node's etcd settings");
    add->add_option("NAME", add_name, "the new member's name (its etcd-name)")->required();
    add->add_option("PEER-URLS", add_peers, "its peer URL(s), comma separated: https://host:port")->required();
    auto* render_opt = add->add_option(
        "--render", render_spec, "cluster spec: also write the node's certs and backend.yml (cluster-config add-node)");
    auto* out_opt = add->add_option("--out", render_out, "with --render: the directory cluster-config provision wrote");
    render_opt->needs(out_opt);
    out_opt->needs(render_opt);
    ChangeOptions change;
    change.notice = [](const std::string& line) { std::cerr << kTool << ": " << line << '\n'; };
    int wait_seconds = 20;
    const auto add_change_flags = [&](CLI::App* cmd) {
        cmd->add_flag("--voter", change.voter,
                      "add a voting member at once (default: a learner, promoted by the leader's backend once it "
                      "has caught up)");
        cmd->add_option("--wait", wait_seconds,
                        "seconds to wait out etcd's \"unhealthy cluster\" refusal (every voting member must have "
                        "been connected for 5 s) [default: 20]")
            ->check(CLI::Range(0, 600));
    };
    add_change_flags(add);
    add->footer(examples({"trellisctl cluster member-add backend-4 https://127.0.0.14:2380",
                          "trellisctl cluster member-add backend-4 https://127.0.0.14:2380 --render "
                          "examples/loopback-3.yml --out out",
                          "", "The new member joins as an etcd learner (it does not count for quorum) and the backend",
                          "of the leader promotes it once it has caught up; --voter adds a voting member at once."}));

    std::string replace_name, replace_peers, replace_spec, replace_out;
    auto* replace = cluster->add_subcommand(
        "member-replace", "replace a dead member: remove it, add its replacement (a learner) under the same name");
    replace->add_option("NAME", replace_name, "the dead member's name (as member-list shows it)")->required();
    replace->add_option("NEW-PEER-URLS", replace_peers, "the replacement's peer URL(s), comma separated")->required();
    auto* replace_render = replace->add_option("--render", replace_spec,
                                               "cluster spec: also write the replacement's certs and backend.yml");
    auto* replace_out_opt =
        replace->add_option("--out", replace_out, "with --render: the directory cluster-config provision wrote");
    replace_render->needs(replace_out_opt);
    replace_out_opt->needs(replace_render);
    add_change_flags(replace);
    replace->footer(examples(
        {"trellisctl cluster member-replace backend-3 https://127.0.0.15:2380 --render examples/loopback-3.yml "
         "--out out",
         "", "Refused while NAME still answers, and when removing it would leave fewer healthy members than a",
         "quorum. Start the replacement with an empty state-dir."}));

    auto* list = cluster->add_subcommand("member-list", "list the members: ID, name, peer URLs and client URLs");
    list->footer(examples({"trellisctl cluster member-list", "trellisctl cluster member-list --format yaml"}));

    std::string remove_id;
    auto* remove = cluster->add_subcommand("member-remove", "remove a member by its hex ID (as member-list shows it)");
    remove->add_option("ID", remove_id, "the member's ID, hex")->required();
    remove->footer(examples({"trellisctl cluster member-remove 2f7ae42c315f8c2d"}));

    std::string update_id, update_peers;
    auto* update = cluster->add_subcommand("member-update", "change a member's peer URLs");
    update->add_option("ID", update_id, "the member's ID, hex")->required();
    update->add_option("PEER-URLS", update_peers, "its new peer URL(s), comma separated")->required();
    update->footer(examples({"trellisctl cluster member-update c8f63ae435a5e6bf https://127.0.0.14:2380"}));

    auto* certs = cluster->add_subcommand(
        "certs", "show the certificate every member serves now on its client, peer and API ports (from a handshake)");
    certs->footer(
        examples({"trellisctl cluster certs", "trellisctl cluster certs --format json | jq '.Certificates[].Serial'",
                  "", "The API port of a member is the --url on its host. The peer port refuses our (client CA)",
                  "certificate, but only after sending its own, which is what is shown. Exit 0 when every port",
                  "served a certificate valid now, 1 when one is expired, 3 when a port served none."}));
    RolloutOptions rollout_options;
    rollout_options.progress = [](const std::string& line) { std::cerr << kTool << ": rollout: " << line << '\n'; };
    int rollout_wait = 120;
    auto* rollout = cluster->add_subcommand(
        "rollout", "restart every node's etcd, one at a time, so it reads new certificate files (a CA rotation)");
    rollout
        ->add_option("--wait", rollout_wait,
                     "seconds to wait for the cluster to be healthy after each node [default: 120]")
        ->check(CLI::Range(1, 3600));
    rollout->footer(examples(
        {"trellisctl cluster rollout", "trellisctl --format json cluster rollout", "",
         "Each backend moves raft leadership off its member, restarts its etcd, and answers once etcd serves and",
         "has caught up; the next node follows once the whole cluster is healthy. etcd re-reads its own certificate",
         "and key on every handshake but its trusted CA file only when it starts. Exit 0 when every port of every",
         "node then serves the certificate in its files; 1 (code 15012) when one does not."}));
    std::string snapshot_file, etcdctl_path;
    bool snapshot_overwrite = false;
    auto* snapshot = cluster->add_subcommand("snapshot", "save a snapshot of the store, or report on one");
    snapshot->require_subcommand(1);
    auto* snapshot_save_cmd = snapshot->add_subcommand(
        "save", "stream a snapshot from a backend into FILE (mode 0600; written only once etcd's SHA-256 checks out)");
    snapshot_save_cmd->add_option("FILE", snapshot_file, "where to write the snapshot")->required();
    snapshot_save_cmd->add_flag("--overwrite", snapshot_overwrite, "replace FILE if it exists");
    snapshot_save_cmd->footer(
        examples({"trellisctl cluster snapshot save backup.db",
                  "trellisctl --format json cluster snapshot save /backups/trellis.db --overwrite", "",
                  "Restore it into a new cluster with `cluster-config restore` (docs/recovery.md)."}));
    auto* snapshot_status_cmd = snapshot->add_subcommand(
        "status", "check a snapshot file (etcd's SHA-256) and print its hash, revision, keys and size");
    snapshot_status_cmd->add_option("FILE", snapshot_file, "the snapshot")->required();
    snapshot_status_cmd->add_option("--etcdctl", etcdctl_path,
                                    "etcdctl to read it with [default: next to trellisctl, else on PATH]");
    snapshot_status_cmd->footer(examples({"trellisctl cluster snapshot status backup.db",
                                          "trellisctl cluster snapshot status backup.db --format json"}));

    auto* configure_cmd = app.add_subcommand(
        "configure",
        "write the connection flags given (over the current file) to ~/.config/trellis/cli.yml, mode 0600");
    configure_cmd->add_flag("--overwrite", f.overwrite, "replace an existing settings file that differs");
    configure_cmd->footer(
        examples({"trellisctl configure --url https://127.0.0.11:8080,https://127.0.0.12:8080 \\",
                  "    --trusted-ca-file out/clients/admin/ca.pem --cert-file out/clients/admin/admin.pem \\",
                  "    --key-file out/clients/admin/admin-key.pem", "trellisctl configure --timeout 5s --overwrite"}));

    auto* version = cli::add_version_command(app);

    std::string shell;
    auto* completion = app.add_subcommand("completion", "print the shell completion script for bash or zsh");
    completion->add_option("SHELL", shell, "bash or zsh")->required()->check(CLI::IsMember({"bash", "zsh"}));
    completion->footer(
        examples({"trellisctl completion bash > /etc/bash_completion.d/trellisctl",
                  "source <(trellisctl completion bash)", "trellisctl completion zsh > \"${fpath[1]}/_trellisctl\""}));

    if (cli::parse(app, argc, argv)) return 0;

    const Format format = parse_format(f.format);
    if (*version) return print_version(format, std::cout);
    if (*completion) {
        std::cout << (shell == "bash" ? kBashCompletion : kZshCompletion);
        return 0;
    }
    if (*configure_cmd) return configure(f, std::cout);
    if (*snapshot_status_cmd) return snapshot_status(snapshot_file, etcdctl_path, format, std::cout);

    // Arguments are checked before any file or network is touched, so typos are always exit 2.
    if (*add) {
        check_member_name(add_name);
        parse_peer_urls(add_peers);
    }
    if (*replace) {
        check_member_name(replace_name);
        parse_peer_urls(replace_peers);
    }
    change.wait = std::chrono::seconds(wait_seconds);
    if (*remove) parse_member_id(remove_id);
    if (*update) {
        parse_member_id(update_id);
        parse_peer_urls(update_peers);
    }
    const ApiClient client(settings_for(f, true), f.insecure, warn);
    if (*health) return cluster_health(client, format, std::cout);
    if (*list) return member_list(client, format, std::cout);
    if (*certs) return cluster_certs(client, format, std::cout);
    if (*rollout) {
        rollout_options.healthy_wait = std::chrono::seconds(rollout_wait);
        return cluster_rollout(client, rollout_options, format, std::cout);
    }
    if (*snapshot_save_cmd) return snapshot_save(client, snapshot_file, snapshot_overwrite, format, std::cout);
    if (*remove) return member_remove(client, remove_id, format, std::cout);
    if (*update) return member_update(client, update_id, update_peers, format, std::cout);
    if (*add) {
        std::optional<RenderRequest> render;
        if (!render_spec.empty()) render = RenderRequest{render_spec, render_out};
        return member_add(client, add_name, add_peers, render, change, format, std::cout);
    }
    if (*replace) {
        std::optional<RenderRequest> render;
        if (!replace_spec.empty()) render = RenderRequest{replace_spec, replace_out};
        return member_replace(client, replace_name, replace_peers, render, change, format, std::cout);
    }
    throw Error(Code::Usage, "no command given (see trellisctl --help)");
}

}  // namespace

int main(int argc, char** argv) {
    // A server that drops the connection (say, refusing our certificate) must give an error, not kill us.
    ::signal(SIGPIPE, SIG_IGN);
    return trellis::cli::run(kTool, argc, argv, [&] { return run(argc, argv); });
}
