#include "recover.hpp"

#include <unistd.h>

#include <ctime>
#include <filesystem>
#include <thread>

#include "core/error.hpp"
#include "core/time.hpp"
#include "core/url.hpp"
#include "log.hpp"
#include "store/etcd_process.hpp"
#include "store/health.hpp"
#include "store/tls_diagnosis.hpp"

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace trellis::backend {
namespace {

using Clock = std::chrono::steady_clock;

bool answers(const std::string& url, std::chrono::milliseconds timeout) {
    std::string why;
    const int fd = store::dial_tcp(parse_url(url, UrlKind::Client, "peer URL"), timeout, why);
    if (fd < 0) return false;
    ::close(fd);
    return true;
}

// Refuses while this node's etcd runs or a quorum of the members still answers on its peer port.
void check_no_quorum(const cluster::BackendConfig& config, const RecoverOptions& options) {
    for (const auto& url : config.get_list(cluster::Key::EtcdListenClientUrls))
        if (answers(url, options.probe_timeout))
            throw Error(Code::StoreProcessFailed, "something answers on this node's etcd client URL " + url +
                                                      ": stop its trellis-backend before recovering its data");
    const auto others = other_members(config);
    const std::size_t members = others.size() + 1, quorum = members / 2 + 1;
    std::vector<std::string> live;
    for (const auto& p : others)
        if (answers(p.peer_url, options.probe_timeout)) live.push_back(p.name + " (" + p.peer_url + ")");
    if (live.size() + 1 < quorum) return;
    std::string names;
    for (const auto& n : live) names += (names.empty() ? "" : ", ") + n;
    throw Error(Code::QuorumReachable,
                std::to_string(live.size()) + " of the other " + std::to_string(others.size()) + " members answer (" +
                    names + "): with this one that is a quorum of " + std::to_string(members) +
                    ", so start this node normally (`trellis-backend start`); recover is only for a lost majority");
}

// etcd with the node's own settings plus --force-new-cluster, until it serves as a one-member cluster.
std::string force_new_cluster(const cluster::BackendConfig& config, const store::ClientOptions& store,
                              const RecoverOptions& options) {
    store::ProcessOptions process;
    process.binary = store::find_etcd_binary(options.etcd_binary, store::self_executable());
    process.arguments = config.etcd_arguments();
    process.arguments.push_back("--force-new-cluster");
    process.on_line = [](std::string_view line) { log_raw(line); };
    store::EtcdProcess etcd(process);
    etcd.start();  // from the main thread: PR_SET_PDEATHSIG follows the forking thread
    const store::Member self{
        0, config.get(cluster::Key::EtcdName), {}, config.get_list(cluster::Key::EtcdAdvertiseClientUrls), false};
    etcd.wait_ready([&] { return store::check_member(self, store, 1000ms).healthy; },
                    std::chrono::duration_cast<std::chrono::milliseconds>(options.ready_timeout));
    store::EtcdClient client(store);
    const store::MemberList list = client.member_list();
    const store::Status status = client.status();
    etcd.stop(10s);
    if (list.members.size() != 1)
        throw Error(Code::StoreProcessFailed,
                    "after --force-new-cluster etcd still lists " + std::to_string(list.members.size()) + " members");
    return "cluster ID " + store::hex_id(list.header.cluster_id) + ", member " +
           store::hex_id(status.header.member_id) + ", revision " + std::to_string(status.header.revision) +
           ", raft index " + std::to_string(status.raft_index);
}

}  // namespace

std::vector<Peer> other_members(const cluster::BackendConfig& config) {
    std::vector<Peer> out;
    const std::string self = config.get(cluster::Key::EtcdName);
    for (const auto& entry : config.get_list(cluster::Key::EtcdInitialCluster)) {
        const auto eq = entry.find('=');
        if (eq == std::string::npos)
            throw Error(Code::ConfigInvalid, "etcd-initial-cluster: \"" + entry + "\" is not name=peer-url");
        if (entry.substr(0, eq) != self) out.push_back({entry.substr(0, eq), entry.substr(eq + 1)});
    }
    return out;
}

int recover(const cluster::BackendConfig& config, const store::ClientOptions& store, const RecoverOptions& options,
            std::ostream& out) {
    if (config.get_bool(cluster::Key::NoEmbedEtcd))
        throw Error(Code::ConfigInvalid,
                    "no-embed-etcd: recover works on this node's embedded etcd data; for an "
                    "external etcd follow etcd's disaster-recovery guide");
    const fs::path state = config.get(cluster::Key::StateDir), data = state / "etcd";
    std::error_code ec;
    if (!fs::exists(data / "member" / "wal", ec))
        throw Error(Code::FileReadFailed, located((data / "member" / "wal").string(),
                                                  "no etcd data to recover here (is --state-dir this node's?)"));
    check_no_quorum(config, options);

    // --force-new-cluster rewrites the membership in place: keep what there was first.
    const fs::path before = state / ("etcd.before-recover-" + utc_stamp());
    fs::copy(data, before, fs::copy_options::recursive, ec);
    if (ec) throw Error(Code::FileWriteFailed, located(before.string(), "cannot keep a copy: " + ec.message()));
    fs::permissions(before, fs::perms::owner_all, ec);
    const std::string what = force_new_cluster(config, store, options);

    const std::string cfg = config.source().empty() ? "backend.yml" : config.source();
    out << "recovered " << config.get(cluster::Key::EtcdName) << ": its data is now a one-member cluster (" << what
        << ")\n"
        << "the data as it was is kept in " << before.string() << "\n"
        << "next:\n"
        << "  1. trellis-backend start --config " << cfg << " --state-dir " << state.string() << "\n"
        << "  2. for each lost member, with an EMPTY state dir on its host:\n";
    for (const auto& p : other_members(config))
        out << "     trellisctl cluster member-add " << p.name << ' ' << p.peer_url << "   (then start " << p.name
            << " with the settings it prints)\n";
    out << "see docs/recovery.md\n";
    return 0;
}

}  // namespace trellis::backend
