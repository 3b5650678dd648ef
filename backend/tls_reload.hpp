// Live reload of the API's TLS files: certificate (chain), key, trusted CA and CRL are
// re-read when they change on disk, with no restart, so a renewed certificate is served
// from the next handshake on. Checked per handshake from OpenSSL's certificate callback
// (docs/backend.md says why that and not a file watch).
#pragma once

#include <openssl/ssl.h>
#include <sys/types.h>

#include <array>
#include <memory>
#include <mutex>
#include <string>

#include "core/file_stamp.hpp"

namespace trellis::backend {

struct TlsFiles {
    std::string cert_file;        // leaf first, then any intermediates
    std::string key_file;         // the leaf's private key
    std::string trusted_ca_file;  // empty: client certificates are not verified here
    std::string crl_file;         // empty: no revocation check; PEM or DER
};

// One consistent set of loaded TLS files (owned OpenSSL objects).
struct TlsMaterial;

class TlsReloader {
  public:
    // Loads the files now; Code::TlsFailed naming the file and the reason when they do not
    // load or the key is not the certificate's.
    explicit TlsReloader(TlsFiles files);
    ~TlsReloader();
    TlsReloader(const TlsReloader&) = delete;
    TlsReloader& operator=(const TlsReloader&) = delete;

    // Makes every handshake on `ctx` use the current files (SSL_CTX_set_cert_cb). `this` must
    // outlive the context's connections.
    void install(SSL_CTX* ctx);
    // Re-reads the files if any changed since the last look; returns whether a new set was taken.
    // A set that does not load (half-written, key of another certificate) is refused with one
    // log line, the old one stays in use, and the next change is tried again.
    bool refresh();
    // Serial (decimal) of the certificate served now.
    std::string serial() const;

  private:
    static int on_handshake(SSL* ssl, void* self);
    std::array<FileStamp, 4> stamps() const;

    TlsFiles files_;
    mutable std::mutex mutex_;
    std::shared_ptr<const TlsMaterial> current_;
    std::array<FileStamp, 4> seen_;  // the stamps last looked at (loaded or refused)
};

}  // namespace trellis::backend
