// trellis-backend: the process each cluster node runs. `start` reads backend.yml
// (every key also a flag and an environment variable), checks the node before
// anything starts, runs and supervises the embedded etcd (or joins an external
// one), and serves the backend API until SIGTERM/SIGINT.
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <map>
#include <optional>

#include <systemd/sd-daemon.h>

#include "api.hpp"
#include "cli/app.hpp"
#include "cluster/backend_config.hpp"
#include "cluster/tls_policy.hpp"
#include "core/cli.hpp"
#include "core/error.hpp"
#include "core/files.hpp"
#include "core/text.hpp"
#include "etcd_restart.hpp"
#include "log.hpp"
#include "node_state.hpp"
#include "preflight.hpp"
#include "promoter.hpp"
#include "recover.hpp"
#include "snapshot.hpp"
#include "store/connection_pool.hpp"
#include "store/etcd_failure.hpp"
#include "store/etcd_process.hpp"
#include "store/health.hpp"

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace trellis::backend {
namespace {

using cluster::Key;

constexpr const char* kDefaultConfig = "/etc/trellis/backend.yml";

constexpr const char* kFooter = R"(
Every backend.yml key is also a flag (--etcd-name backend-1) and an environment
variable (TRELLIS_BACKEND_ETCD_NAME=backend-1). A flag beats the environment,
which beats the file, which beats the default. URL lists take a YAML list or a
comma/space separated string.

Before anything starts, the node is linted (cluster-config lint): schemes that
disagree, missing or unreadable files, keys that do not match certificates,
SANs that miss the advertised hosts, missing EKUs, expired certificates, a name
absent from etcd-initial-cluster. Any error stops the start (exit 1).

Examples:
  trellis-backend start                                   # /etc/trellis/backend.yml
  trellis-backend start --config node/backend-1/backend.yml
  trellis-backend start --config backend.yml --log-level info
  trellis-backend start --no-embed-etcd --etcd-client-urls https://10.0.0.1:2379,https://10.0.0.2:2379 \
      --etcd-trusted-ca-file ca.pem --etcd-cert-file client.pem --etcd-key-file client-key.pem

A member added by `trellisctl cluster member-add` joins as a learner and is
promoted by the leader's backend once it has caught up. A removed member exits
4; started again with its old data it exits 4 at once, and --move-removed-data
moves that data to <state-dir>/etcd.removed-<time> (never deletes it) to join
as the member added since.

Exit codes: 0 stopped by SIGTERM/SIGINT, 1 failed (bad config, preflight, etcd
died, damaged or foreign data), 2 bad command line, 3 cannot reach or
authenticate to etcd, 4 this member was removed from the cluster. Errors print
as trellis-backend: error: MESSAGE (code N), or with --format json as one
{"code":N,"message":"..."} line on stdout (docs/exit-codes.md).
API: docs/api.md (GET /health answers 200 only when every member is healthy;
GET /readyz, without a client certificate, 200 when this node can serve).)";

constexpr const char* kRecoverFooter = R"(
Only when a majority of the members is lost for good (docs/recovery.md). Stop this node's
trellis-backend, then run recover on the survivor with the highest raft index (see
docs/recovery.md for how to tell). It refuses while this node's etcd runs or while enough other
members answer that starting this node normally would restore the quorum (exit 1, code 15011).
It keeps a copy of the data in <state-dir>/etcd.before-recover-<time>, runs etcd once with
--force-new-cluster, and prints the next steps: start this node, then add the lost members
again (trellisctl cluster member-add) with empty state dirs.

Examples:
  trellis-backend recover --config /etc/trellis/backend.yml
  trellis-backend recover --config node/backend-1/backend.yml --state-dir /var/lib/trellis

Exit codes: 0 recovered, 1 refused or failed, 2 bad command line.)";

// Values given on the command line for the table's keys, kept apart until layering.
struct KeyFlags {
    std::map<std::string, std::string> scalars;
    std::map<std::string, std::vector<std::string>> lists;
    std::map<std::string, bool> bools;
    std::map<std::string, CLI::Option*> options;
};

// One flag per backend.yml key, generated from the table (no key is spelled here).
void add_key_flags(CLI::App& app, KeyFlags& flags) {
    for (const auto& k : cluster::backend_keys()) {
        const std::string name = "--" + std::string(k.key);
        std::string help(k.help);
        if (!k.default_value.empty()) help += " [default: " + std::string(k.default_value) + "]";
        CLI::Option* opt = nullptr;
        if (k.type == cluster::KeyType::Bool)
            opt = app.add_flag(name, flags.bools[std::string(k.key)], help);
        else if (is_list(k.type))
            opt = app.add_option(name, flags.lists[std::string(k.key)], help)->type_name("LIST");
        else
            opt = app.add_option(name, flags.scalars[std::string(k.key)], help);
        opt->group(k.etcd_flag.empty() ? "Backend (backend.yml keys)" : "Store: etcd (backend.yml keys)");
        flags.options[std::string(k.key)] = opt;
    }
}

cluster::BackendConfig load_config(const std::string& path, bool explicit_path, const KeyFlags& flags) {
    cluster::BackendConfig config;
    std::error_code ec;
    if (explicit_path || fs::exists(path, ec))
        config = cluster::BackendConfig::from_yaml(read_file(path), path);
    else
        log(Level::Info, std::string("no ") + kDefaultConfig + "; using flags, environment and defaults");
    config.apply_environment();
    for (const auto& k : cluster::backend_keys()) {
        const std::string key(k.key);
        if (flags.options.at(key)->count() == 0) continue;
        std::vector<std::string> values;
        if (k.type == cluster::KeyType::Bool)
            values = {flags.bools.at(key) ? "true" : "false"};
        else if (is_list(k.type))
            for (const auto& v : flags.lists.at(key))
                for (auto& part : split_list(v)) values.push_back(std::move(part));
        else
            values = {flags.scalars.at(key)};
        config.set(key, values, cluster::Origin{"flag --" + key, 0});
    }
    return config;
}

// SIGTERM/SIGINT are blocked in every thread and taken here, synchronously, so
// shutdown happens in one place and in order (API, then etcd).
class Signals {
  public:
    Signals() {
        sigemptyset(&set_);
        sigaddset(&set_, SIGTERM);
        sigaddset(&set_, SIGINT);
        pthread_sigmask(SIG_BLOCK, &set_, nullptr);
    }
    // The signal received within `wait`, or 0.
    int wait(std::chrono::milliseconds wait) {
        timespec ts{static_cast<time_t>(wait.count() / 1000), static_cast<long>((wait.count() % 1000) * 1000000)};
        const int sig = ::sigtimedwait(&set_, nullptr, &ts);
        return sig > 0 ? sig : 0;
    }

  private:
    sigset_t set_;
};

const char* signal_name(int sig) { return sig == SIGTERM ? "SIGTERM" : sig == SIGINT ? "SIGINT" : "signal"; }

struct StartOptions {
    std::string etcd_binary;
    int ready_timeout = 120;
    int stop_timeout = 10;
    bool move_removed_data = false;
};

store::ClientOptions store_options(const cluster::BackendConfig& config) {
    return {config.store_endpoints(),
            {config.etcd_client_cert_file(), config.etcd_client_key_file(), config.etcd_client_trusted_ca_file()},
            2000ms,
            5000ms};
}

// This node's certificates inside the renewal window: lint's L109 window (30 days), as preflight warns.
std::vector<cluster::CertExpiry> expiring_now(cluster::CertExpiryCache& certs) {
    return certs.expiring(cluster::LintOptions{}.expiry_warning, std::chrono::system_clock::now());
}

// One warning line per certificate inside the window, every few hours while running (preflight's L109
// warnings say it at start).
void log_expiring(const cluster::BackendConfig& config) {
    cluster::CertExpiryCache certs(config);
    for (const auto& e : expiring_now(certs))
        log(e.expired ? Level::Error : Level::Warn, "certificate inside the renewal window: " + e.to_string());
}

// Every certificate the node's configuration names, whatever its date, for /metrics.
std::vector<api::CertificateFact> served_certificates(cluster::CertExpiryCache& certs) {
    std::vector<api::CertificateFact> out;
    for (const auto& e : certs.expiring(cluster::kEveryDate, std::chrono::system_clock::now()))
        out.push_back({e.key, e.file, e.subject, e.serial, e.not_after});
    return out;
}

// `connections`: kept etcd connections to share (a new pool when null).
ApiOptions api_options(const cluster::BackendConfig& config, std::shared_ptr<store::ConnectionPool> connections) {
    ApiOptions api;
    api.listen_address = config.get(Key::ApiListenAddress);
    api.cert_file = config.get(Key::CertFile);
    api.key_file = config.get(Key::KeyFile);
    api.plain_http = cluster::api_transport(config) == cluster::ApiTransport::Http;
    api.trusted_ca_file = config.get(Key::TrustedCaFile);
    api.crl_file = config.get(Key::CrlFile);
    // Preflight refused a version other than 1.2 or 1.3 and suites OpenSSL lacks entirely.
    api.tls_min_version = cluster::tls_version(config.get(Key::ApiTlsMinVersion)).value_or(0x0303);
    api.limits.max_connections = static_cast<std::size_t>(config.get_int(Key::ApiMaxConnections, 1));
    api.limits.max_per_address = static_cast<std::size_t>(config.get_int(Key::ApiMaxConnectionsPerAddress, 1));
    api.cipher_list = cluster::openssl_cipher_list(config.get_list(Key::EtcdCipherSuites));
    api.store = store_options(config);
    // /health, /readyz, /metrics and the member list read etcd on kept connections, shared by the workers.
    api.store.connections = connections ? std::move(connections) : std::make_shared<store::ConnectionPool>();
    api.store.known_members = std::make_shared<store::KnownMembers>();  // /health reads them beside the list
    // Parsed once per version of the files, not per request: /health is asked every few seconds.
    auto certs = std::make_shared<cluster::CertExpiryCache>(config);
    api.expiring_certificates = [certs] { return expiring_now(*certs); };
    api.served_certificates = [certs] { return served_certificates(*certs); };
    return api;
}

std::unique_ptr<ApiServer> start_api(const cluster::BackendConfig& config, const SnapshotScheduler* snapshots,
                                     RestartRequests* restarts, const EtcdProcessFacts* etcd_facts,
                                     std::shared_ptr<store::ConnectionPool> connections = nullptr) {
    ApiOptions options = api_options(config, std::move(connections));
    options.etcd_process = etcd_facts;
    options.scratch_dir = config.get(Key::StateDir);  // a snapshot on its way out: on disk, not in a tmpfs
    // Every connection is a descriptor: take what the hard limit allows, and keep room for etcd clients.
    const long long files = raise_open_file_limit();
    if (files > 0)
        options.limits.max_connections = std::min<std::size_t>(options.limits.max_connections,
                                                               static_cast<std::size_t>(std::max(files - 256, 64LL)));
    log(Level::Info, "API: up to " + std::to_string(options.limits.max_connections) + " connections, " +
                         std::to_string(options.limits.max_per_address) + " per client address (open-file limit " +
                         (files > 0 ? std::to_string(files) : std::string("unlimited")) + ")");
    if (snapshots) options.snapshot_health = [snapshots] { return snapshots->health(); };
    // Bounded above what the main thread may take: stop grace, start, catching up.
    if (restarts) options.restart_etcd = [restarts] { return restarts->request(std::chrono::seconds(150)); };
    auto api = std::make_unique<ApiServer>(std::move(options));
    const std::string address = config.get(Key::ApiListenAddress);
    // Preflight has refused undecided settings; what remains insecure was asked for, and still worth a line.
    if (!api->tls())
        log(Level::Warn, "the API on " + address +
                             " is plain HTTP (api-insecure: true): anyone who reaches it can "
                             "change cluster membership");
    api->start();
    log(Level::Info, std::string("API listening on ") + (api->tls() ? "https://" : "http://") + address);
    return api;
}

// Type=notify units start their dependants only now: etcd serves and the API listens. Without
// NOTIFY_SOCKET (not under systemd) this does nothing.
void notify_ready(const cluster::BackendConfig& config) {
    sd_notify(0, ("READY=1\nSTATUS=serving the API on " + config.get(Key::ApiListenAddress)).c_str());
}

// Waits for SIGTERM/SIGINT (returning 0), or for etcd to die (throwing with its last lines).
int supervise(Signals& signals, store::EtcdProcess* etcd, ApiServer& api, int stop_timeout,
              const cluster::BackendConfig& config, RestartRequests* restarts = nullptr,
              EtcdProcessFacts* etcd_facts = nullptr) {
    auto next_expiry_check = std::chrono::steady_clock::now() + 6h;
    for (;;) {
        if (std::chrono::steady_clock::now() > next_expiry_check) {
            log_expiring(config);
            next_expiry_check += 6h;
        }
        if (const int sig = signals.wait(200ms)) {
            log(Level::Info, std::string("received ") + signal_name(sig) + ", stopping");
            sd_notify(0, "STOPPING=1");
            api.stop();
            if (etcd) {
                const int status = etcd->stop(std::chrono::seconds(stop_timeout));
                log(Level::Info, "etcd " + store::describe_status(status));
            }
            return cli::kExitOk;
        }
        if (etcd && restarts && restarts->pending()) {  // an admin's rollout step, done here on the main thread
            try {
                restarts->answer(restart_etcd(config, store_options(config), *etcd,
                                              {std::chrono::seconds(stop_timeout), std::chrono::seconds(90)}));
                if (etcd_facts) ++etcd_facts->restarts;
            } catch (const Error& e) {
                log(Level::Warn, std::string("rollout: restarting etcd failed: ") + e.what());
                restarts->answer({}, e);
            }
        }
        if (etcd && etcd_facts) etcd_facts->up = etcd->running();
        if (etcd && !etcd->running()) {
            api.stop();
            throw Error(Code::StoreProcessFailed, "etcd died: it " + etcd->describe_exit());
        }
    }
}

// Waits until this node's etcd serves a linearizable read on its own URL (a learner only after the leader's
// backend promoted it). False when a signal came first; throws with the cause when etcd fails.
bool wait_ready(const cluster::BackendConfig& config, const StartOptions& options, Signals& signals,
                store::EtcdProcess& etcd, const std::atomic<bool>& foreign,
                std::shared_ptr<store::ConnectionPool> connections) {
    auto store = store_options(config);
    store.connections = std::move(connections);  // one handshake for the whole wait, and the API's first read
    const store::Member self_member{
        0, config.get(Key::EtcdName), {}, config.get_list(Key::EtcdAdvertiseClientUrls), false};
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(options.ready_timeout);
    std::string waiting_for;
    for (;;) {
        if (!etcd.running())
            throw explain_etcd_failure(config, etcd.last_lines(), "etcd failed to start: it " + etcd.describe_exit());
        if (foreign) {  // etcd would repeat "cluster ID mismatch" until the deadline
            etcd.stop(std::chrono::seconds(options.stop_timeout));
            throw explain_etcd_failure(config, etcd.last_lines(), "etcd reported a cluster ID mismatch");
        }
        // Poll often: the time from etcd serving to the API answering is the backend's whole overhead.
        if (const int sig = signals.wait(20ms)) {
            log(Level::Info, std::string("received ") + signal_name(sig) + " while etcd was starting, stopping");
            etcd.stop(std::chrono::seconds(options.stop_timeout));
            return false;
        }
        const auto health = store::check_member(self_member, store, 1000ms);
        if (health.healthy) return true;
        if (health.error != waiting_for) log(Level::Info, "waiting for etcd: " + (waiting_for = health.error));
        if (std::chrono::steady_clock::now() > deadline) {
            etcd.stop(std::chrono::seconds(options.stop_timeout));
            throw Error(Code::StoreProcessFailed,
                        "etcd was not ready within " + std::to_string(options.ready_timeout) + " s (last: " +
                            waiting_for + "; a new cluster needs a quorum of its members started; see its log above)");
        }
    }
}

// "3.4.23 " as this node's etcd reports it, or "" when it does not say.
std::string etcd_version(const cluster::BackendConfig& config, std::shared_ptr<store::ConnectionPool> connections) {
    try {
        auto options = store_options(config);
        options.connections = std::move(connections);
        store::EtcdClient client(options);
        const std::string v = client.status_on(client.endpoints().front()).version;
        return v.empty() ? v : v + " ";
    } catch (const Error&) {
        return {};
    }
}

// Runs etcd, the API beside it while etcd starts, and the learner promoter once etcd serves, until a
// signal or etcd's end. The API listens early so that /health and /readyz answer (503, with the reason)
// during a start that can take minutes, and say 200 the moment etcd serves.
int run_embedded(const cluster::BackendConfig& config, const StartOptions& options, Signals& signals) {
    auto foreign = std::make_shared<std::atomic<bool>>(false);
    store::ProcessOptions process;
    process.binary = store::find_etcd_binary(options.etcd_binary, store::self_executable());
    process.arguments = config.etcd_arguments();
    process.on_line = [foreign](std::string_view line) {
        log_raw(line);
        if (const auto d = store::diagnose_etcd_line(line); d && d->failure == store::EtcdFailure::ForeignData)
            *foreign = true;
    };
    store::EtcdProcess etcd(process);
    etcd.start();  // from the main thread: PR_SET_PDEATHSIG follows the forking thread
    log(Level::Info, "started etcd " + process.binary.string() + " (pid " + std::to_string(etcd.pid()) + ")");
    // Both outlive the API: its workers wait on restarts, and /health reports the last snapshot.
    RestartRequests restarts;
    EtcdProcessFacts etcd_facts;
    etcd_facts.up = true;
    std::unique_ptr<SnapshotScheduler> snapshots;
    std::unique_ptr<ApiServer> api;
    LearnerPromoter promoter(store_options(config));
    auto connections = std::make_shared<store::ConnectionPool>();
    try {
        if (const SnapshotSchedule schedule = snapshot_schedule(config); schedule.interval.count() > 0)
            snapshots = std::make_unique<SnapshotScheduler>(schedule, store_options(config));
        api = start_api(config, snapshots.get(), &restarts, &etcd_facts, connections);
        if (!wait_ready(config, options, signals, etcd, *foreign, connections)) return cli::kExitOk;
        log(Level::Info,
            "etcd " + etcd_version(config, connections) + "is ready (pid " + std::to_string(etcd.pid()) + ")");
        notify_ready(config);
        if (snapshots) snapshots->start();
        promoter.start();
    } catch (...) {
        if (api) api->stop();
        etcd.stop(std::chrono::seconds(options.stop_timeout));
        throw;
    }
    try {
        return supervise(signals, &etcd, *api, options.stop_timeout, config, &restarts, &etcd_facts);
    } catch (const Error& e) {
        if (e.code() != Code::StoreProcessFailed) throw;
        throw explain_etcd_failure(config, etcd.last_lines(), e.what());
    }
}

// The facts an operator reading the log of a node needs first: what runs, from which file, where.
void log_start_facts(const cluster::BackendConfig& config) {
    const bool embedded = !config.get_bool(Key::NoEmbedEtcd);
    log(Level::Info,
        "trellis-backend " + std::string(cli::version()) + " starting: config " +
            (config.source().empty() ? std::string("(none: flags, environment, defaults)") : config.source()) +
            ", state dir " + config.get(Key::StateDir) + ", API on " + config.get(Key::ApiListenAddress) +
            (embedded
                 ? ", etcd member " + config.get(Key::EtcdName) + " on client URLs " +
                       config.get(Key::EtcdListenClientUrls) + " and peer URLs " + config.get(Key::EtcdListenPeerUrls)
                 : ", external etcd at " + join(config.store_endpoints(), ",")));
}

int start(const cluster::BackendConfig& config, const StartOptions& options, Signals& signals) {
    set_log_level(parse_level(config.get(Key::LogLevel)));
    set_log_format(parse_log_format(config.get(Key::LogFormat)));
    log_start_facts(config);
    const PreflightResult checks = preflight(config);
    for (const auto& w : checks.warnings) log(Level::Warn, "preflight: " + w);
    if (!checks.errors.empty()) {
        for (const auto& e : checks.errors)
            std::cerr << cli::error_line("trellis-backend", Error(Code::LintFindings, e)) << '\n';
        throw Error(Code::LintFindings,
                    "preflight found " + std::to_string(checks.errors.size()) +
                        " problem(s); nothing was started (fix them, or see `cluster-config lint`)");
    }

    if (config.get_bool(Key::NoEmbedEtcd)) {
        const auto store = store_options(config);
        try {
            store::EtcdClient client(store);
            const auto list = client.member_list();
            log(Level::Info,
                "connected to the external etcd cluster (" + std::to_string(list.members.size()) + " members)");
        } catch (const Error& e) {
            throw Error(e.code(), std::string("cannot use the external etcd cluster (no-embed-etcd): ") + e.what());
        }
        if (snapshot_schedule(config).interval.count() > 0)
            log(Level::Warn, "snapshot-interval is ignored with no-embed-etcd: schedule snapshots where etcd runs");
        auto api = start_api(config, nullptr, nullptr, nullptr);
        notify_ready(config);
        return supervise(signals, nullptr, *api, options.stop_timeout, config);
    }

    check_state_dir(config);  // permissions, another cluster's data: refused before etcd starts
    if (!has_etcd_data(config)) write_file_atomic(cluster_record_path(config), cluster_record(config), kPublicMode);
    for (bool moved = false;;) {
        try {
            return run_embedded(config, options, signals);
        } catch (const Error& e) {
            // A removed member's stale data stops etcd at once; set aside (never deleted) only when asked.
            if (e.code() != Code::MemberRemoved || !options.move_removed_data || moved) throw;
            log(Level::Warn, std::string(e.what()));
            log(Level::Warn, "--move-removed-data: moved the stale data to " + move_removed_data(config).string() +
                                 "; starting etcd afresh to join as the new member");
            moved = true;
        }
    }
}

int run_main(int argc, char** argv, Signals& signals) {
    CLI::App app{
        "trellis-backend: a Trellis cluster node. It runs the bundled etcd store (or joins an external one) "
        "and serves the backend API.",
        "trellis-backend"};
    app.require_subcommand(1);
    app.footer(kFooter);
    std::string format = "text";
    cli::add_format_option(app, format, "text, or json: the version and errors as JSON on stdout");

    CLI::App* start_cmd = app.add_subcommand("start", "start this node: preflight, etcd, then the API");
    start_cmd->footer(kFooter);
    std::string config_path = kDefaultConfig;
    CLI::Option* config_opt = start_cmd->add_option(
        "-c,--config", config_path, std::string("backend.yml to read [default: ") + kDefaultConfig + "]");
    StartOptions options;
    start_cmd->add_option("--etcd-binary", options.etcd_binary,
                          "etcd executable [default: etcd next to trellis-backend, else on PATH]");
    start_cmd
        ->add_option("--etcd-ready-timeout", options.ready_timeout,
                     "seconds to wait for etcd to serve (a new cluster waits for quorum) [default: 120]")
        ->check(CLI::Range(1, 3600));
    start_cmd
        ->add_option("--stop-timeout", options.stop_timeout,
                     "seconds etcd gets to stop after SIGTERM before SIGKILL [default: 10]")
        ->check(CLI::Range(1, 600));
    start_cmd->add_flag("--move-removed-data", options.move_removed_data,
                        "if etcd's data belongs to a member that was removed from the cluster, move it to "
                        "<state-dir>/etcd.removed-<time> (nothing is deleted) and join as the member added since");
    KeyFlags flags;
    add_key_flags(*start_cmd, flags);

    CLI::App* recover_cmd = app.add_subcommand(
        "recover", "after losing a majority: make this surviving member's data a one-member cluster");
    recover_cmd->footer(kRecoverFooter);
    std::string recover_config = kDefaultConfig;
    recover_cmd->add_option("-c,--config", recover_config, "this node's backend.yml")->required();
    RecoverOptions recover_options;
    recover_cmd->add_option("--etcd-binary", recover_options.etcd_binary,
                            "etcd executable [default: etcd next to trellis-backend, else on PATH]");
    KeyFlags recover_flags;
    add_key_flags(*recover_cmd, recover_flags);

    CLI::App* version = cli::add_version_command(app);
    if (cli::parse(app, argc, argv)) return cli::kExitOk;
    const cli::Format output = cli::format_of(format);
    if (*version) {
        std::cout << cli::version_text("trellis-backend", output);
        return cli::kExitOk;
    }
    if (recover_cmd->parsed()) {
        const auto config = load_config(recover_config, true, recover_flags);
        set_log_level(parse_level(config.get(cluster::Key::LogLevel)));
        set_log_format(parse_log_format(config.get(cluster::Key::LogFormat)));
        return recover(config, store_options(config), recover_options, std::cout);
    }
    if (!start_cmd->parsed()) return cli::kExitOk;
    const auto config = load_config(config_path, config_opt->count() > 0, flags);
    return start(config, options, signals);
}

}  // namespace
}  // namespace trellis::backend

int main(int argc, char** argv) {
    trellis::backend::Signals signals;  // before any thread exists, so all inherit the mask
    ::signal(SIGPIPE, SIG_IGN);
    return trellis::cli::run("trellis-backend", argc, argv,
                             [&] { return trellis::backend::run_main(argc, argv, signals); });
}
