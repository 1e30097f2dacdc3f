#include "common/config.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <map>

#include "common/fd.h"
#include "common/fs.h"

namespace reaper {

namespace {

// One setting read from the file or the environment, with where it came from
// for error messages (`/etc/reaper/reaper.conf:12`, `environment`).
struct Setting {
  std::string key;
  std::string value;
  std::string where;
};

using Setter = Status (*)(NodeConfig&, std::string_view value);

struct Key {
  std::string_view name;
  Setter set;
};

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

Result<bool> parse_bool(std::string_view v) {
  std::string l = lower(v);
  if (l == "true" || l == "1" || l == "yes" || l == "on") return true;
  if (l == "false" || l == "0" || l == "no" || l == "off") return false;
  return make_error("`{}` is not a boolean (true|false|1|0|yes|no|on|off)", v);
}

Result<std::string> normalize_path(std::string_view v) {
  return fs::normalize_absolute(v);
}

Result<std::string> parse_dir(std::string_view v) {
  auto p = REAPER_TRY(normalize_path(v));
  if (p == "/") return make_error("`/` cannot be used here");
  return p;
}

// Overlayfs options are `,`-separated and `:` separates lower layers, so
// neither may appear in the directories that end up in them.
Result<std::string> parse_overlay_dir(std::string_view v) {
  auto p = REAPER_TRY(parse_dir(v));
  if (p.find_first_of(",:\\") != std::string::npos)
    return make_error("`{}`: `,`, `:` and `\\` cannot appear in an overlay directory", v);
  return p;
}

Result<std::vector<std::string>> parse_path_list(std::string_view v) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos <= v.size()) {
    size_t next = v.find(':', pos);
    if (next == std::string_view::npos) next = v.size();
    std::string_view item = trim(v.substr(pos, next - pos));
    pos = next + 1;
    if (item.empty()) continue;
    auto p = REAPER_TRY(normalize_path(item));
    if (p == "/") return make_error("`/` cannot be masked");
    if (std::find(out.begin(), out.end(), p) == out.end()) out.push_back(std::move(p));
  }
  return out;
}

constexpr std::string_view annotation_keys[] = {"dns-mode", "overlay-name", "network"};
constexpr std::string_view annotation_prefix = "reaper.runtime/";

Result<std::vector<std::string>> parse_annotation_list(std::string_view v) {
  std::vector<std::string> out;
  std::string item;
  auto flush = [&]() -> Status {
    std::string_view k = item;
    if (k.substr(0, annotation_prefix.size()) == annotation_prefix)
      k.remove_prefix(annotation_prefix.size());
    if (k.empty()) return {};
    if (std::find(std::begin(annotation_keys), std::end(annotation_keys), k) ==
        std::end(annotation_keys))
      return make_error("unknown annotation `{}` (known: dns-mode, overlay-name, network)", k);
    if (std::find(out.begin(), out.end(), k) == out.end()) out.emplace_back(k);
    item.clear();
    return {};
  };
  for (char c : v) {
    if (c == ',' || c == ':' || c == ' ' || c == '\t') {
      REAPER_TRY(flush());
    } else {
      item += c;
    }
  }
  REAPER_TRY(flush());
  return out;
}

Status set_state_root(NodeConfig& c, std::string_view v) {
  c.state_root = REAPER_TRY(parse_dir(v));
  return {};
}
Status set_runtime_log(NodeConfig& c, std::string_view v) {
  c.runtime_log = v.empty() ? std::string() : REAPER_TRY(normalize_path(v));
  return {};
}
Status set_shim_log(NodeConfig& c, std::string_view v) {
  c.shim_log = v.empty() ? std::string() : REAPER_TRY(normalize_path(v));
  return {};
}
Status set_overlay_enabled(NodeConfig& c, std::string_view v) {
  c.overlay_enabled = REAPER_TRY(parse_bool(v));
  return {};
}
// The original's test switch; kept so that old files and scripts keep their meaning.
Status set_no_overlay(NodeConfig& c, std::string_view v) {
  c.overlay_enabled = !REAPER_TRY(parse_bool(v));
  return {};
}
Status set_isolation(NodeConfig& c, std::string_view v) {
  std::string l = lower(v);
  if (l == "namespace") {
    c.overlay_isolation = OverlayIsolation::per_namespace;
  } else if (l == "node") {
    c.overlay_isolation = OverlayIsolation::per_node;
  } else {
    return make_error("`{}` is not an isolation mode (namespace|node)", v);
  }
  return {};
}
Status set_overlay_base(NodeConfig& c, std::string_view v) {
  c.overlay_base = REAPER_TRY(parse_overlay_dir(v));
  return {};
}
Status set_ns_dir(NodeConfig& c, std::string_view v) {
  c.overlay_ns_dir = REAPER_TRY(parse_dir(v));
  return {};
}
Status set_filter_enabled(NodeConfig& c, std::string_view v) {
  c.filter_enabled = REAPER_TRY(parse_bool(v));
  return {};
}
Status set_filter_mode(NodeConfig& c, std::string_view v) {
  std::string l = lower(v);
  if (l == "append") {
    c.filter_mode = FilterMode::append;
  } else if (l == "replace") {
    c.filter_mode = FilterMode::replace;
  } else {
    return make_error("`{}` is not a filter mode (append|replace)", v);
  }
  return {};
}
Status set_filter_paths(NodeConfig& c, std::string_view v) {
  c.filter_paths = REAPER_TRY(parse_path_list(v));
  return {};
}
Status set_filter_allowlist(NodeConfig& c, std::string_view v) {
  c.filter_allowlist = REAPER_TRY(parse_path_list(v));
  return {};
}
Status set_dns_mode(NodeConfig& c, std::string_view v) {
  std::string l = lower(v);
  if (l == "host") {
    c.dns_mode = DnsMode::host;
  } else if (l == "kubernetes" || l == "k8s") {
    c.dns_mode = DnsMode::kubernetes;
  } else {
    return make_error("`{}` is not a DNS mode (host|kubernetes)", v);
  }
  return {};
}
Status set_network(NodeConfig& c, std::string_view v) {
  c.network_mode = REAPER_TRY(parse_network_mode(v));
  return {};
}
Status set_annotations_enabled(NodeConfig& c, std::string_view v) {
  c.annotations_enabled = REAPER_TRY(parse_bool(v));
  return {};
}
Status set_annotations_allowlist(NodeConfig& c, std::string_view v) {
  c.annotations_allowlist = REAPER_TRY(parse_annotation_list(v));
  return {};
}
Status set_cgroups(NodeConfig& c, std::string_view v) {
  std::string l = lower(v);
  if (l == "enabled") {
    c.cgroups_enabled = true;
  } else if (l == "disabled") {
    c.cgroups_enabled = false;
  } else {
    auto b = parse_bool(v);
    if (!b) return make_error("`{}` is not enabled|disabled", v);
    c.cgroups_enabled = *b;
  }
  return {};
}
// Settings of the original Reaper that this implementation does not need:
// accepted so that an existing reaper.conf keeps working, and reported.
Status set_obsolete(NodeConfig&, std::string_view) {
  return {};
}

constexpr Key keys[] = {
    {"REAPER_RUNTIME_ROOT", set_state_root},
    {"REAPER_RUNTIME_LOG", set_runtime_log},
    {"REAPER_SHIM_LOG", set_shim_log},
    {"REAPER_OVERLAY_ENABLED", set_overlay_enabled},
    {"REAPER_NO_OVERLAY", set_no_overlay},
    {"REAPER_OVERLAY_ISOLATION", set_isolation},
    {"REAPER_OVERLAY_BASE", set_overlay_base},
    {"REAPER_OVERLAY_NS_DIR", set_ns_dir},
    {"REAPER_FILTER_ENABLED", set_filter_enabled},
    {"REAPER_FILTER_MODE", set_filter_mode},
    {"REAPER_FILTER_PATHS", set_filter_paths},
    {"REAPER_FILTER_ALLOWLIST", set_filter_allowlist},
    {"REAPER_DNS_MODE", set_dns_mode},
    {"REAPER_NETWORK", set_network},
    {"REAPER_ANNOTATIONS_ENABLED", set_annotations_enabled},
    {"REAPER_ANNOTATIONS_ALLOWLIST", set_annotations_allowlist},
    {"REAPER_CGROUPS", set_cgroups},
    // Obsolete (see docs/configuration.md).
    {"REAPER_OVERLAY_NS", set_obsolete},
    {"REAPER_OVERLAY_LOCK", set_obsolete},
    {"REAPER_FILTER_DIR", set_obsolete},
    {"REAPER_RUNTIME_PATH", set_obsolete},
};

const Key* find_key(std::string_view name) {
  for (const auto& k : keys)
    if (k.name == name) return &k;
  return nullptr;
}

constexpr std::string_view config_env = "REAPER_CONFIG";

// A value may be quoted as in shell-style env files: one pair of matching
// quotes around the whole value is removed.
std::string_view unquote(std::string_view v) {
  if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front())
    return v.substr(1, v.size() - 2);
  return v;
}

Result<std::vector<Setting>> parse_file(std::string_view text, std::string_view origin) {
  std::vector<Setting> out;
  std::map<std::string, size_t, std::less<>> first_line;
  size_t line_no = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = trim(text.substr(pos, end - pos));
    pos = end + 1;
    ++line_no;
    if (line.empty() || line.front() == '#') continue;
    auto eq = line.find('=');
    if (eq == std::string_view::npos)
      return make_error("{}:{}: expected KEY=VALUE, got `{}`", origin, line_no, line);
    std::string_view key = trim(line.substr(0, eq));
    std::string_view value = unquote(trim(line.substr(eq + 1)));
    if (key == config_env)
      return make_error("{}:{}: {} can only be set in the environment", origin, line_no, key);
    if (find_key(key) == nullptr)
      return make_error("{}:{}: unknown key `{}`", origin, line_no, key);
    if (auto it = first_line.find(key); it != first_line.end())
      return make_error("{}:{}: `{}` is already set on line {}", origin, line_no, key, it->second);
    first_line.emplace(std::string(key), line_no);
    out.push_back({std::string(key), std::string(value), fmt::format("{}:{}", origin, line_no)});
  }
  return out;
}

std::vector<Setting> parse_env(const char* const* envp) {
  std::vector<Setting> out;
  if (envp == nullptr) return out;
  for (auto* e = envp; *e != nullptr; ++e) {
    std::string_view entry(*e);
    if (entry.substr(0, 7) != "REAPER_") continue;
    auto eq = entry.find('=');
    if (eq == std::string_view::npos) continue;
    std::string_view key = entry.substr(0, eq);
    if (find_key(key) == nullptr) continue;
    out.push_back({std::string(key), std::string(entry.substr(eq + 1)), "environment"});
  }
  return out;
}

const char* env_value(const char* const* envp, std::string_view key) {
  if (envp == nullptr) return nullptr;
  for (auto* e = envp; *e != nullptr; ++e) {
    std::string_view entry(*e);
    if (entry.size() > key.size() && entry.substr(0, key.size()) == key && entry[key.size()] == '=')
      return *e + key.size() + 1;
  }
  return nullptr;
}

Status apply(NodeConfig& c, const std::vector<Setting>& settings) {
  for (const auto& s : settings) {
    const Key* k = find_key(s.key);
    if (auto st = k->set(c, s.value); !st)
      return std::move(st).error().wrap(fmt::format("{}: {}", s.where, s.key));
    if (k->set == set_obsolete)
      c.warnings.push_back(fmt::format(
          "{}: {} is not used by this version of reaper and is ignored", s.where, s.key));
  }
  return {};
}

// Reads the config file; `found` is false when a default-path file is absent.
Result<std::string> read_config_file(const std::string& path, bool explicit_path, bool& found) {
  found = false;
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOENT && !explicit_path) return std::string();
    return sys_error("read configuration `{}`", path);
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) < 0) return sys_error("stat configuration `{}`", path);
  if (!S_ISREG(st.st_mode)) return make_error("configuration `{}`: not a regular file", path);
  // Anyone who can write this file decides what protects the host.
  if ((st.st_mode & S_IWOTH) != 0)
    return make_error("configuration `{}`: refusing a world-writable file", path);
  std::string text;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return sys_error("read configuration `{}`", path);
    }
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
    if (text.size() > (1 << 20)) return make_error("configuration `{}`: larger than 1 MiB", path);
  }
  found = true;
  return text;
}

}  // namespace

std::string_view to_string(OverlayIsolation v) {
  return v == OverlayIsolation::per_node ? "node" : "namespace";
}
std::string_view to_string(DnsMode v) {
  return v == DnsMode::kubernetes ? "kubernetes" : "host";
}
std::string_view to_string(FilterMode v) {
  return v == FilterMode::replace ? "replace" : "append";
}

std::string_view to_string(NetworkMode v) {
  return v == NetworkMode::pod ? "pod" : "host";
}

Result<NetworkMode> parse_network_mode(std::string_view v) {
  std::string l = lower(v);
  if (l == "host") return NetworkMode::host;
  if (l == "pod") return NetworkMode::pod;
  return make_error("`{}` is not a network mode (host|pod)", v);
}

std::string NodeConfig::overlay_base_dir() const {
  return overlay_base.empty() ? state_root + "/overlay" : overlay_base;
}

std::string NodeConfig::ns_dir() const {
  return overlay_ns_dir.empty() ? state_root + "/ns" : overlay_ns_dir;
}

bool NodeConfig::annotation_allowed(std::string_view key) const {
  return annotations_enabled &&
         std::find(annotations_allowlist.begin(), annotations_allowlist.end(), key) !=
             annotations_allowlist.end();
}

Result<NodeConfig> parse_node_config(std::string_view text, std::string_view origin,
                                     const char* const* envp) {
  NodeConfig c;
  c.config_path = std::string(origin);
  REAPER_TRY(reaper::apply(c, REAPER_TRY(parse_file(text, origin))));
  REAPER_TRY(reaper::apply(c, parse_env(envp)));
  return c;
}

Result<NodeConfig> load_node_config(const char* const* envp) {
  const char* named = env_value(envp, config_env);
  bool explicit_path = named != nullptr;
  std::string path = explicit_path ? named : std::string(default_config_path);
  if (explicit_path && path.empty()) {
    NodeConfig c;
    REAPER_TRY(reaper::apply(c, parse_env(envp)));
    return c;
  }
  bool found = false;
  std::string text = REAPER_TRY(read_config_file(path, explicit_path, found));
  if (!found) {
    NodeConfig c;
    REAPER_TRY(reaper::apply(c, parse_env(envp)));
    return c;
  }
  return parse_node_config(text, path, envp);
}

}  // namespace reaper
