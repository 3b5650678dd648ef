// Client-side checks of what the user typed (API URLs, peer URLs, member IDs),
// so a typo is a usage error (exit 2) naming the argument before anything is sent.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace trellis::ctl {

// A member ID as etcd prints it: 1-16 hex digits, not zero. Code::Usage otherwise, naming `where`.
std::uint64_t parse_member_id(std::string_view text, std::string_view where = "ID");

// Peer URLs for member-add/update: a comma (or space) separated list of http(s)://host:port with an
// explicit port and nothing after it, as etcd requires. Code::Usage naming `where` and the reason.
std::vector<std::string> parse_peer_urls(std::string_view text, std::string_view where = "PEER-URLS");

// Backend API URLs (--url and friends): http(s)://host:port, each list entry comma separated;
// returned normalised ("https://127.0.0.11:8080"). Code::Usage naming `where`.
std::vector<std::string> parse_api_urls(const std::vector<std::string>& values, std::string_view where);

// A member name for member-add: what etcd accepts in --name and in initial-cluster ("name=url").
void check_member_name(std::string_view name, std::string_view where = "NAME");

// A timeout as a Go duration ("10s", "1m30s", "500ms", "1h") or bare seconds ("10", "1.5"), from 1 ms to
// 1 h. Code::Usage naming `where`.
long long parse_timeout_ms(std::string_view text, std::string_view where);

}  // namespace trellis::ctl
