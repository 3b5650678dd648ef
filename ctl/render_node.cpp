#include "render_node.hpp"

#include <algorithm>

#include "cluster/owner.hpp"
#include "cluster/provision.hpp"
#include "cluster/spec.hpp"
#include "core/error.hpp"
#include "core/files.hpp"
#include "core/url.hpp"

namespace fs = std::filesystem;

namespace trellis::ctl {

void RenderedNode::undo() const {
    std::error_code ec;
    for (const auto& f : created) fs::remove(f, ec);
    // The node's folder goes too if it is now empty (it was ours).
    if (fs::is_directory(dir, ec) && fs::is_empty(dir, ec)) fs::remove(dir, ec);
}

RenderedNode render_node(const fs::path& spec_path, const fs::path& out, const std::string& name,
                         const std::string& peer_url, bool replacing) {
    const Url url = parse_url(peer_url, UrlKind::Peer, "PEER-URLS");
    Warnings warnings;
    cluster::Spec spec =
        cluster::load_spec(read_input(spec_path.string()), spec_path == "-" ? "<stdin>" : spec_path.string(), warnings);
    cluster::resolve_owners(spec);  // the new node's folder goes to the spec's owner: too
    if (cluster::peer_scheme(spec) != url.scheme)
        throw Error(Code::Usage, "PEER-URLS: " + peer_url + ": " + spec_path.string() + " gives its peers " +
                                     std::string(cluster::peer_scheme(spec)) + ":// URLs");
    // The replacement takes the dead node's name and place: the spec's entry for it (if the node was not
    // added later) gives way.
    if (replacing) std::erase_if(spec.nodes, [&](const cluster::NodeSpec& n) { return n.name == name; });
    cluster::NodeSpec node{name, url.host, {}, spec.ports, 0, /*join_existing=*/true, {}};
    node.ports.peer = url.port;
    const auto problems = cluster::check_new_node(spec, node);
    if (!problems.empty()) {
        std::string all;
        for (const auto& p : problems) all += (all.empty() ? "" : "; ") + p;
        throw Error(Code::InputInvalidValue, "--render: " + all);
    }
    // The same plan as `cluster-config add-node`.
    cluster::ProvisionOptions options;
    options.plan.only_node = name;
    options.plan.members = spec.nodes;
    options.plan.members.push_back(node);

    RenderedNode rendered;
    rendered.dir = out / name;
    rendered.spec_line = cluster::spec_node_line(spec, node);
    const cluster::ProvisionResult result = cluster::provision(spec, out, options);
    for (const auto& f : result.files) {
        if (f.action == cluster::FileAction::Unchanged) continue;
        rendered.files.push_back(out / f.path);
        if (f.action == cluster::FileAction::Create) rendered.created.push_back(out / f.path);
    }
    std::sort(rendered.files.begin(), rendered.files.end());
    return rendered;
}

}  // namespace trellis::ctl
