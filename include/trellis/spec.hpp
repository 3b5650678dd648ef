// Public API: the cluster spec (docs/cluster-spec.md), the one YAML file that describes a whole
// cluster. Parsing is strict and reports every problem at once (Code::SpecInvalid, one per line).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "errors.hpp"

namespace trellis {

namespace detail {
struct SpecImpl;
}

struct SpecNode {
    std::string name{};
    std::string address{};             // IP literal or host name the other members reach it on
    std::vector<std::string> names{};  // extra SANs
    int client_port = 0, peer_port = 0, api_port = 0;
};

// A checked spec; immutable, copies share it.
class ClusterSpec {
  public:
    // `source` names the input in messages ("spec.yml:12: nodes[1].address: ...").
    static ClusterSpec parse(std::string_view yaml, std::string_view source, Warnings& warnings);

    std::string name() const;
    std::string security() const;  // the guide's layout: "full-mtls", "client-tls", ...
    std::vector<SpecNode> nodes() const;
    std::vector<std::string> clients() const;

    explicit ClusterSpec(std::shared_ptr<const detail::SpecImpl> impl);  // used inside the library
    const detail::SpecImpl& impl() const { return *impl_; }

  private:
    std::shared_ptr<const detail::SpecImpl> impl_;
};

}  // namespace trellis
