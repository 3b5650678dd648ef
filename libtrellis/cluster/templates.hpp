// The mustache templates of rendered files (templates/*.mustache), compiled
// into the library so that cluster-config needs nothing but its binary.
#pragma once

#include <optional>
#include <string_view>

namespace trellis::cluster {

// Text of templates/<name>.mustache ("backend.yml", "etcd.service"), if there is one.
std::optional<std::string_view> template_source(std::string_view name);

}  // namespace trellis::cluster
