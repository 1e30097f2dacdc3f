#include "shim/flags.h"

#include <utility>

namespace reaper::shim {

namespace {

struct ValueFlag {
  std::string_view name;
  std::string ShimFlags::*field;
};

constexpr ValueFlag value_flags[] = {
    {"namespace", &ShimFlags::ns},
    {"address", &ShimFlags::address},
    {"publish-binary", &ShimFlags::publish_binary},
    {"id", &ShimFlags::id},
    {"bundle", &ShimFlags::bundle},
    {"ttrpc-address", &ShimFlags::ttrpc_address},
};

bool is_action(std::string_view arg) {
  return arg == "start" || arg == "delete";
}

// Go's strconv.ParseBool, defaulting to true for anything it would reject.
bool parse_bool(std::string_view v) {
  return !(v == "0" || v == "f" || v == "F" || v == "false" || v == "FALSE" || v == "False");
}

}  // namespace

ShimFlags parse_flags(std::span<const std::string_view> args) {
  ShimFlags flags;
  bool only_positional = false;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string_view arg = args[i];
    if (only_positional || arg.size() < 2 || arg.front() != '-') {
      if (flags.action.empty() && !arg.empty())
        flags.action = std::string(arg);
      else
        flags.ignored.emplace_back(arg);
      continue;
    }
    if (arg == "--") {
      only_positional = true;
      continue;
    }
    std::string_view name = arg.substr(arg.starts_with("--") ? 2 : 1);
    std::string_view value;
    bool has_value = false;
    if (auto eq = name.find('='); eq != std::string_view::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_value = true;
    }
    bool next_is_value = i + 1 < args.size();

    if (name == "debug") {
      flags.debug = has_value ? parse_bool(value) : true;
      continue;
    }
    if (name == "v" || name == "version") {
      flags.version = has_value ? parse_bool(value) : true;
      continue;
    }
    bool known = false;
    for (const auto& f : value_flags) {
      if (name != f.name) continue;
      known = true;
      if (!has_value && next_is_value) {
        value = args[++i];
        has_value = true;
      }
      if (has_value) flags.*f.field = std::string(value);
      break;
    }
    if (known) continue;

    // Unknown: its value is the next argument unless that looks like a flag
    // or the action.
    flags.ignored.emplace_back(arg);
    if (!has_value && next_is_value && !args[i + 1].starts_with("-") && !is_action(args[i + 1]))
      flags.ignored.emplace_back(args[++i]);
  }
  return flags;
}

ShimFlags parse_flags(std::span<char* const> argv_after_name) {
  std::vector<std::string_view> args(argv_after_name.begin(), argv_after_name.end());
  return parse_flags(std::span<const std::string_view>(args));
}

}  // namespace reaper::shim
