#include "pki/openssl_util.hpp"

#include "core/host.hpp"

namespace trellis::pki::detail {

std::string openssl_error() {
    const unsigned long code = ERR_get_error();
    ERR_clear_error();
    if (code == 0) return "unknown error";
    char buf[256];
    ERR_error_string_n(code, buf, sizeof buf);
    // Only the reason part is useful to users ("error:1E08010C:DECODER routines::unsupported" -> "unsupported").
    const char* reason = ERR_reason_error_string(code);
    return reason != nullptr ? std::string(reason) : std::string(buf);
}

BioPtr memory_bio(std::string_view data) { return BioPtr(BIO_new_mem_buf(data.data(), static_cast<int>(data.size()))); }

std::string bio_contents(BIO* bio) {
    char* data = nullptr;
    const long len = BIO_get_mem_data(bio, &data);
    return std::string(data, static_cast<size_t>(len));
}

std::string ip_text(const ASN1_OCTET_STRING* ip) {
    return trellis::ip_text(ASN1_STRING_get0_data(ip), static_cast<size_t>(ASN1_STRING_length(ip)));
}

}  // namespace trellis::pki::detail
