#include "reconfig.hpp"

#include <thread>

namespace trellis::ctl {

bool is_unhealthy_cluster(const Response& response) {
    return response.status == 409 && response.body.find(kUnhealthyCluster) != std::string::npos;
}

Response send_waiting_out_unhealthy(const std::function<Response()>& send, std::chrono::seconds wait,
                                    const std::function<void(const std::string&)>& notice) {
    const auto deadline = std::chrono::steady_clock::now() + wait;
    Response response = send();
    for (bool told = false; is_unhealthy_cluster(response) && std::chrono::steady_clock::now() < deadline;) {
        if (!told && notice)
            notice(
                "etcd refuses membership changes until the member serving them has been connected to every "
                "voting member for 5 s (" +
                std::string(kUnhealthyCluster) + "): retrying for up to " + std::to_string(wait.count()) + " s");
        told = true;
        std::this_thread::sleep_for(std::chrono::seconds(1));
        response = send();
    }
    return response;
}

}  // namespace trellis::ctl
