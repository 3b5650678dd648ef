// What a short-lived tool tells the crypto library before its first use of it.
#pragma once

namespace trellis::pki {

// OpenSSL frees every table it built (providers, methods, names) from an atexit handler: about 0.6 ms of
// a certgen or cluster-config run on the 2-core VM (docs/performance.md), for memory the kernel takes back
// at exit anyway. Call it first in main, before anything else uses OpenSSL, in a tool that exits when
// its work is done; not in a library, which does not own the process. Keys are still cleansed: their
// objects are freed before main returns. What is left is OpenSSL's tables and its random generator's
// state, which end with the process.
void skip_openssl_cleanup_at_exit();

}  // namespace trellis::pki
