#include "cli/app.hpp"

#include <iostream>
#include <memory>
#include <optional>

#include "core/strict_json.hpp"

namespace trellis::cli {
namespace {

bool is_help_or_version(const CLI::App& app, const CLI::Option* opt) {
    return opt == app.get_help_ptr() || opt == app.get_help_all_ptr() || opt == app.get_version_ptr();
}

std::vector<const CLI::Option*> own_flags(const CLI::App& app) {
    return app.get_options([&](const CLI::Option* o) { return o->nonpositional() && !is_help_or_version(app, o); });
}

// Every subcommand's help ends with the flags of the commands above it, which it accepts too.
class GlobalFlagsFormatter : public CLI::Formatter {
  public:
    std::string make_footer(const CLI::App* app) const override {
        std::vector<const CLI::Option*> globals;
        for (const CLI::App* p = app->get_parent(); p != nullptr; p = p->get_parent()) {
            const auto flags = own_flags(*p);
            globals.insert(globals.end(), flags.begin(), flags.end());
        }
        std::string text;
        if (!globals.empty()) text = make_group("Global options (before or after the command)", false, globals);
        return text + CLI::Formatter::make_footer(app);
    }
};

void prepare(CLI::App& app, const std::shared_ptr<CLI::Formatter>& formatter) {
    app.formatter(formatter);
    app.fallthrough();
    for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) prepare(*sub, formatter);
}

std::vector<const CLI::App*> named_commands(const CLI::App& app) {
    return app.get_subcommands([](const CLI::App* s) { return !s->get_name().empty() && !s->get_disabled(); });
}

const CLI::App* find_command(const CLI::App& app, const std::string& name) {
    for (const CLI::App* s : named_commands(app))
        if (s->check_name(name)) return s;
    return nullptr;
}

// The option `name` names in `app` or a command above it (fallthrough), or nullptr.
const CLI::Option* find_flag(const CLI::App* app, const std::string& name) {
    for (; app != nullptr; app = app->get_parent())
        if (const CLI::Option* o = app->get_option_no_throw(name)) return o;
    return nullptr;
}

std::string path_of(const CLI::App& app) {
    return app.get_parent() == nullptr ? app.get_name() : path_of(*app.get_parent()) + " " + app.get_name();
}

std::string see_help(const CLI::App& app) { return "; see " + path_of(app) + " --help"; }

std::string unknown_flag(const CLI::App& app, const std::string& name) {
    std::vector<std::string> names;
    for (const CLI::App* p = &app; p != nullptr; p = p->get_parent())
        for (const CLI::Option* o : own_flags(*p)) {
            for (const auto& l : o->get_lnames()) names.push_back("--" + l);
            for (const auto& s : o->get_snames()) names.push_back("-" + s);
        }
    std::string message = "unknown flag " + excerpt(name);
    if (const auto near = closest_match(name, names)) message += " (did you mean " + *near + "?)";
    return message + see_help(app);
}

std::string command_list(const CLI::App& app) {
    std::string list;
    for (const CLI::App* s : named_commands(app)) list += (list.empty() ? "" : ", ") + s->get_name();
    return list;
}

std::string unknown_command(const CLI::App& app, const std::string& word) {
    std::vector<std::string> names;
    for (const CLI::App* s : named_commands(app)) names.push_back(s->get_name());
    std::string message = "unknown command \"" + excerpt(word) + "\"";
    if (const auto near = closest_match(word, names)) message += " (did you mean \"" + *near + "\"?)";
    return message + "; commands: " + command_list(app) + see_help(app);
}

bool wants_command(const CLI::App& app) {
    return !named_commands(app).empty() &&
           app.get_options([](const CLI::Option* o) { return o->get_positional(); }).empty();
}

bool is_flag_word(const std::string& a) {
    return a.size() > 1 && a[0] == '-' && !(a[1] >= '0' && a[1] <= '9') && a != "--";
}

struct Walk {
    const CLI::App* app;                 // the deepest command named
    std::optional<std::string> problem;  // an unknown flag or command on the way
};

// Follows `args` down the command tree as CLI11 would, stopping at the first word it cannot place.
Walk walk(const CLI::App& root, const std::vector<std::string>& args) {
    const CLI::App* app = &root;
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (a == "--") break;
        if (is_flag_word(a)) {
            const std::string name = a.substr(0, a.find('='));
            const CLI::Option* opt = find_flag(app, name);
            if (opt == nullptr) return {app, unknown_flag(*app, name)};
            if (a.find('=') == std::string::npos && opt->get_type_size_max() > 0) ++i;  // its value
            continue;
        }
        if (const CLI::App* sub = find_command(*app, a)) {
            app = sub;
            continue;
        }
        if (wants_command(*app)) return {app, unknown_command(*app, a)};
    }
    return {app, std::nullopt};
}

}  // namespace

CLI::Option* add_format_option(CLI::App& app, std::string& format, const std::string& help) {
    return app.add_option("--format", format, help)->type_name("text|json");
}

Format format_of(const std::string& format) {
    if (format == "json") return Format::Json;
    if (format == "text") return Format::Text;
    std::string message = "--format " + excerpt(format) + ": expected text or json";
    if (const auto near = closest_match(format, {"text", "json"})) message += " (did you mean " + *near + "?)";
    throw Error(Code::Usage, message);
}

CLI::App* add_version_command(CLI::App& app) {
    CLI::App* version =
        app.add_subcommand("version", "print " + app.get_name() + "'s version (--format json: as JSON)");
    version->footer("\nExamples:\n  " + app.get_name() + " version\n  " + app.get_name() + " version --format json\n");
    return version;
}

std::string usage_message(const CLI::App& app, const std::vector<std::string>& args, const CLI::ParseError& error) {
    const Walk w = walk(app, args);
    if (w.problem) return *w.problem;
    if (w.app->get_require_subcommand_min() > 0 && !named_commands(*w.app).empty())
        return "missing command after \"" + path_of(*w.app) + "\": one of " + command_list(*w.app) + see_help(*w.app);
    return error.what() + see_help(*w.app);
}

bool parse(CLI::App& app, std::vector<std::string> args) {
    prepare(app, std::make_shared<GlobalFlagsFormatter>());
    const std::vector<std::string> given = args;
    std::reverse(args.begin(), args.end());  // CLI11 takes them reversed
    try {
        app.parse(args);
        return false;
    } catch (const CLI::CallForHelp&) {
        // help() follows the selected commands down: the help of the command asked about, footer included.
        const std::string help = app.help();
        std::cout << help << (help.ends_with('\n') ? "" : "\n");
        return true;
    } catch (const CLI::CallForAllHelp&) {
        std::cout << app.help("", CLI::AppFormatMode::All);
        return true;
    } catch (const CLI::CallForVersion&) {
        std::cout << version_text(app.get_name(), Format::Text);
        return true;
    } catch (const CLI::ParseError& e) {
        throw Error(Code::Usage, usage_message(app, given, e));
    }
}

bool parse(CLI::App& app, int argc, char** argv) {
    return parse(app, std::vector<std::string>(argv + (argc > 0 ? 1 : 0), argv + argc));
}

}  // namespace trellis::cli
