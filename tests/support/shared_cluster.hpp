// A suite's own 3-node cluster, shared by all of its tests (one cluster per suite keeps the whole suite
// within CI's time): provisioned from the suite's spec, every node started; each test's SetUp asserts it
// became healthy, and a failed test prints every node's log.
//
//   class Renew : public SharedCluster {
//       static void SetUpTestSuite() { start_cluster(kSpec); }
//       static void TearDownTestSuite() { stop_cluster(); }
//   };
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "backend_fixture.hpp"

namespace trellis::testing {

class SharedCluster : public ::testing::Test {
  protected:
    static void start_cluster(const std::string& spec,
                              const std::vector<std::string>& extra = {"--log-level", "info"}) {
        dir_ = new TempDir;
        spit(*dir_ / "spec.yml", spec);
        start_cluster_from(*dir_ / "spec.yml", extra);
    }
    // The same from a spec file (tests/data/...).
    static void start_cluster_from(const std::filesystem::path& spec,
                                   const std::vector<std::string>& extra = {"--log-level", "info"}) {
        if (dir_ == nullptr) dir_ = new TempDir;
        cluster_ = new ProvisionedCluster(spec, dir_->path());
        for (const auto& n : cluster_->nodes()) nodes_.push_back(cluster_->start(n, extra).release());
        healthy_ =
            wait_healthy(*cluster_->api(cluster_->nodes().front()), cluster_->nodes().size(), std::chrono::seconds(90));
    }
    static void stop_cluster() {
        for (auto* n : nodes_) delete n;
        nodes_.clear();
        delete cluster_;
        delete dir_;
        cluster_ = nullptr;
        dir_ = nullptr;
    }
    void SetUp() override { ASSERT_TRUE(healthy_) << "the cluster did not become healthy: " << nodes_[0]->log_tail(); }
    void TearDown() override {
        if (HasFailure())
            for (std::size_t i = 0; i < nodes_.size(); ++i)
                std::cerr << "---- " << cluster_->nodes()[i] << " log:\n" << nodes_[i]->log_tail(4000);
    }
    // cluster-config with `args`, in the cluster's directory (bounded).
    // Every process of the cluster: the backends and the etcds they started.
    static std::vector<pid_t> pids() {
        std::vector<pid_t> out;
        for (const auto* n : nodes_) out.push_back(n->pid());
        for (pid_t p : etcd_pids_mentioning(dir_->path().string())) out.push_back(p);
        return out;
    }
    static RunResult tool(std::vector<std::string> args, int timeout = 120) {
        args.insert(args.begin(), build_path("cluster-config/cluster-config").string());
        return run(args, {}, dir_->path(), timeout);
    }

    static inline TempDir* dir_ = nullptr;
    static inline ProvisionedCluster* cluster_ = nullptr;
    static inline std::vector<ChildProcess*> nodes_;
    static inline bool healthy_ = false;
};

}  // namespace trellis::testing
