// A short program against the installed libtrellis: make a CA, issue an etcd peer certificate
// for 127.0.0.1, check the chain with both verifiers, and write the files atomically (keys 0600,
// certificates 0644), never replacing a file that differs. The CA key stays in OUT/ca/; the
// node's folder OUT/node-1/ gets only what the node needs.
//
//   c++ -std=c++20 make_certs.cpp $(pkg-config --cflags --libs trellis) -o make_certs
//   ./make_certs out && openssl verify -CAfile out/node-1/ca.pem out/node-1/peer.pem
#include <trellis/trellis.hpp>

#include <filesystem>
#include <iostream>

int main(int argc, char** argv) try {
    if (argc != 2) {
        std::cerr << "usage: " << argv[0] << " OUT-DIR\n";
        return 2;
    }
    const std::filesystem::path out = argv[1];

    const auto ca = trellis::CertificateAuthority::create({.common_name = "Example CA"});
    const auto peer = ca.issue(trellis::CertificateSpec::peer("node-1", {"127.0.0.1"}));

    const trellis::Verdict verdict = trellis::verify(peer.certificate, {ca.certificate()},
                                                     {.purpose = trellis::Purpose::ServerAuth, .host = "127.0.0.1"});
    if (!verdict.ok) {
        std::cerr << "chain rejected: " << verdict.openssl_error << verdict.botan_error << "\n";
        return 1;
    }

    trellis::FileSet files;  // all of them appear together, or none
    files.add(out / "ca" / "ca.pem", ca.certificate().pem(), trellis::kPublicMode);
    files.add(out / "ca" / "ca-key.pem", ca.key().pem(), trellis::kSecretMode);
    files.add(out / "node-1" / "ca.pem", ca.certificate().pem(), trellis::kPublicMode);
    files.add(out / "node-1" / "peer.pem", peer.certificate.pem(), trellis::kPublicMode);
    files.add(out / "node-1" / "peer-key.pem", peer.key.pem(), trellis::kSecretMode);
    files.commit();  // Code::FileExists rather than replacing a file that differs

    std::cout << "wrote " << out.string() << ": CA \"" << ca.certificate().common_name() << "\", peer \""
              << peer.certificate.common_name() << "\" for " << peer.certificate.ip_addresses().at(0) << "\n";
    return 0;
} catch (const trellis::Error& e) {
    std::cerr << "make_certs: error: " << e.what() << " (code " << e.number() << ")\n";
    return 1;
}
