#include "args.hpp"

#include <algorithm>
#include <iostream>
#include <optional>

#include "cli/app.hpp"
#include "core/error.hpp"
#include "core/strict_json.hpp"

namespace trellis::certgen {
namespace {

const FlagName* find(std::span<const FlagName> table, std::string_view name) {
    const auto it = std::find_if(table.begin(), table.end(), [&](const FlagName& f) { return f.name == name; });
    return it == table.end() ? nullptr : &*it;
}

std::string spelt(std::string_view name) { return (name.size() == 1 ? "-" : "--") + std::string(name); }

[[noreturn]] void unknown(std::span<const FlagName> table, std::string_view arg, std::string_view name) {
    std::vector<std::string> names;
    for (const auto& f : table) names.emplace_back(f.name);
    std::string message = "unknown flag " + std::string(arg.substr(0, arg.find('=')));
    if (const auto near = closest_match(name, names)) message += " (did you mean -" + *near + "?)";
    throw Error(Code::Usage, message + "; see --help");
}

}  // namespace

std::vector<std::string> normalize_args(std::span<const FlagName> table, const std::vector<std::string>& args) {
    std::vector<std::string> out;
    out.reserve(args.size() + 4);
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string& arg = args[i];
        if (arg == "--") {
            out.insert(out.end(), args.begin() + static_cast<long>(i), args.end());
            break;
        }
        if (arg.size() < 2 || arg[0] != '-') {
            out.push_back(arg);
            continue;
        }
        const bool double_dash = arg[1] == '-';
        std::string_view body = std::string_view(arg).substr(double_dash ? 2 : 1);
        std::optional<std::string_view> value;
        if (const auto eq = body.find('='); eq != std::string_view::npos) {
            value = body.substr(eq + 1);
            body = body.substr(0, eq);
        }
        const FlagName* flag = find(table, body);
        if (flag == nullptr) {
            // A long word after one dash is a typo (Go would say "flag provided but not defined").
            if (!double_dash && body.size() > 1) unknown(table, arg, body);
            out.push_back(arg);  // CLI11 reports other unknowns (and handles -h)
            continue;
        }
        if (flag->kind == FlagKind::Bool) {
            out.push_back(spelt(flag->name) + (value ? "=" + std::string(*value) : ""));
            continue;
        }
        out.push_back(spelt(flag->name));
        if (value) {
            out.emplace_back(*value);
        } else if (i + 1 < args.size()) {
            out.push_back(args[++i]);  // the value, even if it starts with '-' (as Go's flag package does)
        }
    }
    return out;
}

bool parse_command_line(CLI::App& app, std::span<const FlagName> table, int argc, char** argv) {
    return cli::parse(app, normalize_args(table, std::vector<std::string>(argv + 1, argv + argc)));
}

}  // namespace trellis::certgen
