#include "pki/process.hpp"

#include <openssl/crypto.h>

namespace trellis::pki {

void skip_openssl_cleanup_at_exit() {
    // Only the first initialisation decides whether the handler is registered; a failure here leaves
    // OpenSSL to initialise itself (with its handler) on first use, as before.
    OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, nullptr);
}

}  // namespace trellis::pki
