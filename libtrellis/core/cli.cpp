#include "core/cli.hpp"

#include <iostream>

namespace trellis::cli {

int exit_code_for(const Error& e) {
    switch (e.code()) {
        case Code::Usage:
            return kExitUsage;
        case Code::ConnectFailed:
        case Code::TlsFailed:
            return kExitConnection;
        case Code::MemberRemoved:
            return kExitRemoved;
        default:
            return kExitFailure;
    }
}

int run(std::string_view tool, ErrorStyle style, const std::function<int()>& body) {
    auto report = [&](const Error& e) {
        if (style == ErrorStyle::Json)
            std::cerr << e.to_json() << '\n';
        else
            std::cerr << tool << ": error: " << e.what() << '\n';
        return exit_code_for(e);
    };
    try {
        return body();
    } catch (const Error& e) {
        return report(e);
    } catch (const std::bad_alloc&) {
        return report(Error(Code::Internal, "out of memory"));
    } catch (const std::exception& e) {
        return report(Error(Code::Internal, std::string("unexpected internal error: ") + e.what() +
                                                " (please report this with the command you ran)"));
    }
}

void print_warnings(std::string_view tool, const Warnings& warnings) {
    for (const auto& w : warnings) std::cerr << tool << ": warning: " << w << '\n';
}

}  // namespace trellis::cli
