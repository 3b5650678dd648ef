#include "api/metrics.hpp"

#include <array>
#include <cstdio>
#include <utility>

#include "api/wire.hpp"

namespace trellis::api {
namespace {

using Labels = std::vector<std::pair<std::string_view, std::string>>;

// Label values may hold anything a certificate subject holds: \, " and newline are escaped.
std::string escaped(std::string_view value) {
    std::string out;
    for (char c : value) {
        if (c == '\\' || c == '"') out += '\\';
        out += c == '\n' ? std::string("\\n") : std::string(1, c);
    }
    return out;
}

std::string number(double value) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.17g", value);
    return buf;
}

class Writer {
  public:
    void family(std::string_view name, std::string_view type, std::string_view help) {
        name_ = name;
        out_ += "# HELP " + std::string(name) + " " + std::string(help) + "\n";
        out_ += "# TYPE " + std::string(name) + " " + std::string(type) + "\n";
    }
    void sample(double value, const Labels& labels = {}) {
        out_ += name_;
        for (std::size_t i = 0; i < labels.size(); ++i)
            out_ += (i == 0 ? "{" : ",") + std::string(labels[i].first) + "=\"" + escaped(labels[i].second) + "\"";
        out_ += (labels.empty() ? " " : "} ") + number(value) + "\n";
    }
    std::string take() { return std::move(out_); }

  private:
    std::string name_, out_;
};

double seconds_since_epoch(std::chrono::system_clock::time_point t) {
    return static_cast<double>(std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count());
}

void write_cluster(Writer& w, const store::ClusterHealth& health) {
    w.family("trellis_cluster_healthy", "gauge", "1 when every member is healthy and no alarm is raised.");
    w.sample(health.healthy() ? 1 : 0);
    w.family("trellis_member_healthy", "gauge", "1 when the member answers a linearizable read (as /health).");
    for (const auto& m : health.members) w.sample(m.healthy ? 1 : 0, {{"member", m.name}, {"id", store::hex_id(m.id)}});
    w.family("trellis_etcd_alarm", "gauge", "1 for every alarm etcd raises (NOSPACE, CORRUPT).");
    for (const auto& a : health.alarms) w.sample(1, {{"id", store::hex_id(a.member_id)}, {"alarm", a.alarm}});
}

void write_local(Writer& w, const MetricsFacts& f) {
    if (f.etcd_up) {
        w.family("trellis_etcd_up", "gauge", "1 while this node's supervised etcd process runs.");
        w.sample(*f.etcd_up ? 1 : 0);
        w.family("trellis_etcd_restarts_total", "counter", "Restarts of this node's etcd for a rollout.");
        w.sample(static_cast<double>(f.etcd_restarts));
    }
    if (!f.local) return;
    const store::Status& s = *f.local;
    w.family("trellis_etcd_has_leader", "gauge", "1 when this node's etcd knows a leader.");
    w.sample(s.leader != 0 ? 1 : 0);
    w.family("trellis_etcd_is_leader", "gauge", "1 when this node's etcd is the raft leader.");
    w.sample(s.leader != 0 && s.leader == s.header.member_id ? 1 : 0);
    w.family("trellis_etcd_raft_term", "gauge", "The raft term this node's etcd is in.");
    w.sample(static_cast<double>(s.raft_term));
    w.family("trellis_etcd_raft_index", "gauge", "The raft index this node's etcd has reached.");
    w.sample(static_cast<double>(s.raft_index));
    w.family("trellis_etcd_db_size_bytes", "gauge", "Size of this node's etcd database file.");
    w.sample(static_cast<double>(s.db_size));
}

}  // namespace

std::string metrics_route(std::string_view path) {
    const std::array<std::string_view, 6> exact{kHealthPath,   "/readyz",        kMembersPath,
                                                kSnapshotPath, kEtcdRestartPath, kMetricsPath};
    for (const auto& p : exact)
        if (path == p) return std::string(p);
    const std::string prefix = std::string(kMembersPath) + "/";
    if (path.size() > prefix.size() && path.substr(0, prefix.size()) == prefix &&
        path.find('/', prefix.size()) == std::string_view::npos)
        return prefix + ":id";
    return "other";
}

std::string metrics_method(std::string_view method) {
    for (std::string_view m : {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"})
        if (method == m) return std::string(m);
    return "other";
}

std::string metrics_text(const MetricsFacts& f) {
    Writer w;
    write_cluster(w, f.health);
    write_local(w, f);
    w.family("trellis_api_requests_total", "counter", "Requests the API answered, by method, route and status.");
    for (const auto& r : f.requests)
        w.sample(static_cast<double>(r.count),
                 {{"method", r.method}, {"route", r.route}, {"code", std::to_string(r.code)}});
    w.family("trellis_certificate_not_after_seconds", "gauge",
             "When a certificate this node serves or trusts expires (Unix time), by the backend.yml key naming it.");
    for (const auto& c : f.certificates)
        w.sample(seconds_since_epoch(c.not_after),
                 {{"key", c.key}, {"file", c.file}, {"subject", c.subject}, {"serial", c.serial}});
    return w.take();
}

}  // namespace trellis::api
