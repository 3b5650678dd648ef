// Provisioning: from a spec to a directory holding the CA(s) and, per node and
// per client, exactly the certificates, keys and configs it needs. Idempotent:
// it reads what the directory already holds and reissues only what the spec
// changed (new node, new SAN, near expiry); everything is written as one FileSet.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "cluster/render.hpp"
#include "cluster/spec.hpp"
#include "core/error.hpp"
#include "pki/certificate.hpp"

namespace trellis::cluster {

struct ProvisionOptions {
    RenderOptions render;
    bool force_new_ca = false;                       // replace existing CA keys (and so every certificate)
    bool check = false;                              // decide what would change, write nothing
    pki::Clock::time_point now = pki::Clock::now();  // renewal decisions are relative to this
    unsigned threads = 0;                            // key generation and signing; 0: every core
    // Called from the coordinating thread as certificates get issued: (done, total).
    std::function<void(size_t, size_t)> progress;
    // add-node: issue and render only this node (already part of `members` below), joining an existing cluster.
    std::string only_node;
    std::vector<NodeSpec> members;  // the initial cluster when only_node is set
};

enum class FileAction { Create, Update, Unchanged };

struct FileChange {
    std::filesystem::path path;  // relative to the output directory
    FileAction action;
    std::string reason;  // why it is created or updated ("new node", "SAN 10.0.0.9 added", ...)
};

struct ProvisionResult {
    std::vector<FileChange> files;
    bool changed = false;
    Warnings warnings;
    size_t certificates_issued = 0;
    std::string to_json() const;  // {"changed":..,"files":[{"path","action","reason"}],"warnings":[..]}
};

std::string_view action_name(FileAction action);

// Issues and renders everything `spec` asks for into `out`; with options.check, writes nothing.
// An existing CA key is reused (never replaced without force_new_ca); a CA cert without its key,
// or a key that does not match, is an error naming the file.
ProvisionResult provision(const Spec& spec, const std::filesystem::path& out, const ProvisionOptions& options);

// The SANs a node's certificates carry: its address, extra names, its name, 127.0.0.1 and ::1
// (etcd checks a peer's cert against the connection's source address, 127.0.0.1 on loopback).
std::vector<std::string> node_hosts(const NodeSpec& node);

}  // namespace trellis::cluster
