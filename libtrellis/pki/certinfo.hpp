// cfssl certinfo: certificates and CSRs described as the JSON cfssl prints.
#pragma once

#include <nlohmann/json.hpp>

#include "pki/certificate.hpp"

namespace trellis::pki {

nlohmann::json certificate_info(const Certificate& cert);
nlohmann::json csr_info(const Csr& csr);

}  // namespace trellis::pki
