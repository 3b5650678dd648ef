// The public API's spec, provisioning and lint (include/trellis/): thin conversions to and from
// the cluster part, so that the public headers stay free of its internal types.
#include "cluster/backend_config.hpp"
#include "cluster/lint.hpp"
#include "cluster/owner.hpp"
#include "cluster/provision.hpp"
#include "cluster/spec.hpp"
#include "core/files.hpp"
#include "trellis/lint.hpp"
#include "trellis/provision.hpp"
#include "trellis/spec.hpp"

namespace trellis {

namespace detail {
struct SpecImpl {
    cluster::Spec spec;
};
}  // namespace detail

ClusterSpec::ClusterSpec(std::shared_ptr<const detail::SpecImpl> impl) : impl_(std::move(impl)) {}

ClusterSpec ClusterSpec::parse(std::string_view yaml, std::string_view source, Warnings& warnings) {
    cluster::Spec spec = cluster::load_spec(yaml, source, warnings);
    cluster::resolve_owners(spec);  // owner: as this machine's IDs, which provisioning gives the files
    return ClusterSpec(std::make_shared<const detail::SpecImpl>(detail::SpecImpl{std::move(spec)}));
}

std::string ClusterSpec::name() const { return impl_->spec.name; }
std::string ClusterSpec::security() const { return std::string(impl_->spec.security->name); }

std::vector<SpecNode> ClusterSpec::nodes() const {
    std::vector<SpecNode> out;
    for (const auto& n : impl_->spec.nodes)
        out.push_back({n.name, n.address, n.names, n.ports.client, n.ports.peer, n.ports.api});
    return out;
}

std::vector<std::string> ClusterSpec::clients() const {
    std::vector<std::string> out;
    for (const auto& c : impl_->spec.clients) out.push_back(c.name);
    return out;
}

ProvisionReport provision(const ClusterSpec& spec, const std::filesystem::path& out, const ProvisionOptions& options) {
    cluster::ProvisionOptions o;
    o.check = options.check;
    o.plan.force = options.force;
    o.plan.force_new_ca = options.force_new_ca;
    o.threads = options.threads;
    const cluster::ProvisionResult r = cluster::provision(spec.impl().spec, out, o);
    ProvisionReport report{{}, r.changed, r.warnings, r.certificates_issued};
    for (const auto& f : r.files)
        report.files.push_back({f.path, static_cast<FileAction>(static_cast<int>(f.action)), f.reason});
    return report;
}
static_assert(static_cast<int>(FileAction::Create) == static_cast<int>(cluster::FileAction::Create) &&
              static_cast<int>(FileAction::Update) == static_cast<int>(cluster::FileAction::Update) &&
              static_cast<int>(FileAction::Unchanged) == static_cast<int>(cluster::FileAction::Unchanged) &&
              static_cast<int>(FileAction::Conflict) == static_cast<int>(cluster::FileAction::Conflict));

std::vector<LintFinding> lint_backend_configs(const std::vector<std::filesystem::path>& files,
                                              const LintOptions& options) {
    cluster::LintOptions o;
    o.expiry_warning = options.expiry_warning;
    o.check_files = options.check_files;
    std::vector<cluster::BackendConfig> configs;
    std::vector<cluster::Finding> findings;
    for (const auto& path : files) {
        configs.push_back(cluster::BackendConfig::from_yaml(read_file(path), path.string()));
        const auto f = cluster::lint_node(configs.back(), o);
        findings.insert(findings.end(), f.begin(), f.end());
    }
    const auto cross = cluster::lint_cluster(configs, o);
    findings.insert(findings.end(), cross.begin(), cross.end());
    std::vector<LintFinding> out;
    for (const auto& f : findings) {
        const Severity severity = f.kind->severity == cluster::Severity::Error ? Severity::Error : Severity::Warning;
        out.push_back(
            {std::string(f.kind->code), std::string(f.kind->name), severity, f.file, f.line, f.message, f.to_string()});
    }
    return out;
}

}  // namespace trellis
