// The shared shell of every Trellis command-line tool: turns errors into the
// documented exit codes and one-line messages, so no exception ever reaches
// the user as a stack trace.
#pragma once

#include <functional>
#include <string_view>

#include "core/error.hpp"

namespace trellis::cli {

// Exit codes every tool shares; documented in docs/exit-codes.md.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;     // the work failed (bad input, cluster error, findings)
inline constexpr int kExitUsage = 2;       // the command line itself is wrong
inline constexpr int kExitConnection = 3;  // could not reach or authenticate to a server
inline constexpr int kExitRemoved = 4;     // trellis-backend: this member was removed from the cluster

// How an Error is printed: cfssl-style JSON ({"code":N,"message":"..."}) or plain "error: ...".
enum class ErrorStyle { Json, Plain };

// Runs `body`, mapping trellis::Error to its exit code (Usage -> 2, Connect/Tls -> 3, MemberRemoved -> 4,
// others -> 1)
// and printing it on stderr in `style`; unexpected exceptions become Code::Internal.
int run(std::string_view tool, ErrorStyle style, const std::function<int()>& body);

// Exit code for an error, per the table above.
int exit_code_for(const Error& e);

void print_warnings(std::string_view tool, const Warnings& warnings);

}  // namespace trellis::cli
