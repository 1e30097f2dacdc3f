#include "runtime/cli.h"

#include <fcntl.h>

#include "common/config.h"
#include "common/fs.h"
#include "common/json.h"
#include "monitor/inherited_fds.h"
#include "monitor/options.h"
#include "state/record.h"

namespace reaper::cli {

namespace {

const FlagSpec* find_spec(std::initializer_list<FlagSpec> specs, std::string_view name) {
  for (const auto& s : specs) {
    std::string_view names = s.names;
    while (!names.empty()) {
      auto bar = names.find('|');
      if (names.substr(0, bar) == name) return &s;
      if (bar == std::string_view::npos) break;
      names.remove_prefix(bar + 1);
    }
  }
  return nullptr;
}

std::string canonical(const FlagSpec& s) {
  return std::string(s.names.substr(0, s.names.find('|')));
}

}  // namespace

Result<Flags> Flags::parse(const std::vector<std::string>& args,
                           std::initializer_list<FlagSpec> specs) {
  Flags f;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string_view a = args[i];
    if (a == "--") {
      f.positional.insert(f.positional.end(), args.begin() + static_cast<long>(i) + 1, args.end());
      break;
    }
    if (a.size() < 2 || a[0] != '-') {
      f.positional.emplace_back(a);
      continue;
    }
    a.remove_prefix(a.starts_with("--") ? 2 : 1);
    std::optional<std::string> inline_value;
    if (auto eq = a.find('='); eq != std::string_view::npos) {
      inline_value = std::string(a.substr(eq + 1));
      a = a.substr(0, eq);
    }
    const FlagSpec* spec = find_spec(specs, a);
    if (spec == nullptr) return make_error("unknown flag `{}`", args[i]);
    std::string value = "true";
    if (spec->value) {
      if (inline_value) {
        value = *inline_value;
      } else if (i + 1 < args.size()) {
        value = args[++i];
      } else {
        return make_error("flag `{}` needs a value", args[i]);
      }
    } else if (inline_value) {
      if (*inline_value == "false") continue;
      value = *inline_value;
    }
    f.values_.emplace(canonical(*spec), value);
  }
  return f;
}

std::string Flags::get(std::string_view name, std::string fallback) const {
  auto it = values_.find(std::string(name));
  if (it == values_.end()) return fallback;
  // The last occurrence wins, as with most CLIs.
  auto range = values_.equal_range(std::string(name));
  std::string last;
  for (auto i = range.first; i != range.second; ++i) last = i->second;
  return last;
}

std::vector<std::string> Flags::all(std::string_view name) const {
  std::vector<std::string> out;
  auto range = values_.equal_range(std::string(name));
  for (auto i = range.first; i != range.second; ++i) out.push_back(i->second);
  return out;
}

Status expect_positional(const Flags& f, size_t n, std::string_view usage) {
  if (f.positional.size() != n)
    return make_error("expected {} argument{}, got {}: usage: reaper-runtime {}", n,
                      n == 1 ? "" : "s", f.positional.size(), usage);
  return {};
}

int fail(const Invocation& inv, const Error& e) {
  std::string verb = inv.verb.empty() ? std::string() : inv.verb + ": ";
  fmt::print(stderr, "reaper-runtime: {}{}\n", verb, e.what());
  // --log, else the node's REAPER_RUNTIME_LOG (read only now: errors are rare).
  std::string path = inv.globals.log;
  if (path.empty()) {
    if (auto config = load_node_config(inv.envp); config.ok()) path = config->runtime_log;
  }
  if (path.empty()) return 1;
  std::string line;
  if (inv.globals.log_format == "json") {
    JsonWriter w;
    w.begin_object().key("level").value("error").key("msg").value(verb + e.what());
    w.key("time").value(state::format_rfc3339(state::now_ns())).end_object();
    line = w.str() + "\n";
  } else {
    line = fmt::format("{} error reaper-runtime: {}{}\n", state::format_rfc3339(state::now_ns()),
                       verb, e.what());
  }
  (void)fs::append_to_log(path, line);
  return 1;
}

Result<runtime::Context> context(const Invocation& inv) {
  return runtime::make_context(inv.envp, inv.globals.root);
}

}  // namespace reaper::cli

namespace reaper::cli {

Result<int> preserved_fds(const Flags& f) {
  if (!f.has("preserve-fds")) return 0;
  int n = REAPER_TRY(monitor::parse_preserve_fds(f.get("preserve-fds")));
  REAPER_TRY(monitor::check_preserved_fds(n));
  return n;
}

Result<runtime::CreateRequest> create_request(const Flags& f) {
  runtime::CreateRequest req;
  req.stdio.preserve_fds = REAPER_TRY(preserved_fds(f));
  req.id = f.positional.at(0);
  req.bundle = f.get("bundle", ".");
  req.stdio.console_socket = f.get("console-socket");
  req.cli_namespace = f.get("namespace");
  if (f.has("stdin") || f.has("stdout") || f.has("stderr")) {
    req.stdio.inherit = false;
    req.stdio.in = f.get("stdin");
    req.stdio.out = f.get("stdout");
    req.stdio.err = f.get("stderr");
  }
  return req;
}

Status write_pid_file(const std::string& path, pid_t pid) {
  auto slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  UniqueFd dirfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dirfd) return sys_error("open `{}`", dir);
  REAPER_TRY_CTX(fs::write_file_atomic_at(dirfd.get(), name, std::to_string(pid), 0644),
                 "pid file `{}`", path);
  return {};
}

std::string state_json(const runtime::ProcessState& st) {
  JsonWriter w(2);
  w.begin_object();
  w.key("ociVersion").value("1.0.2");
  w.key("id").value(st.record.id);
  w.key("status").value(runtime::to_string(st.status));
  w.key("pid").value(st.status == runtime::ProcessStatus::stopped ? 0 : st.record.pid);
  w.key("bundle").value(st.record.bundle);
  w.key("rootfs").value(st.record.bundle.empty() ? std::string() : st.record.bundle + "/rootfs");
  w.key("created").value(state::format_rfc3339(st.record.created_ns));
  if (st.exit) {
    w.key("exitStatus").value(st.exit->status);
    w.key("exitedAt").value(state::format_rfc3339(st.exit->exited_ns));
    w.key("exitReason").value(st.exit->reason);
  }
  if (!st.record.overlay_group.empty()) w.key("overlayGroup").value(st.record.overlay_group);
  if (!st.record.netns.empty()) w.key("netns").value(st.record.netns);
  w.key("annotations").begin_object();
  for (const auto& [k, v] : st.record.annotations) w.key(k).value(v);
  w.end_object();
  w.end_object();
  return w.str() + "\n";
}

}  // namespace reaper::cli
