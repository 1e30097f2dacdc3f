// config.json comes from another process (containerd, or whoever wrote the
// bundle), so it is parsed strictly: simdjson's DOM parser checks the whole
// document (structure, UTF-8, numbers) up front, then small readers, one per
// JSON shape, copy what reaper uses into plain structs and name the JSON path
// of the first problem. Unknown fields are skipped, as the spec requires; an
// absent field and a null one are the same, as for Go's encoding/json which
// writes most of these files.

#include "oci/spec.h"

#include <signal.h>
#include <sys/resource.h>

#include <algorithm>
#include <charconv>
#include <functional>
#include <limits>
#include <span>

#include <simdjson.h>

#include "common/fs.h"
#include "common/json.h"
#include "common/json_read.h"

namespace reaper::oci {

namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

// --- tables ------------------------------------------------------------------

// Linux capabilities by number (include/uapi/linux/capability.h, 6.x).
constexpr std::string_view capability_names[] = {
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
};

struct NamedNumber {
  std::string_view name;
  int number;
};

constexpr NamedNumber rlimit_types[] = {
    {"RLIMIT_CPU", RLIMIT_CPU},           {"RLIMIT_FSIZE", RLIMIT_FSIZE},
    {"RLIMIT_DATA", RLIMIT_DATA},         {"RLIMIT_STACK", RLIMIT_STACK},
    {"RLIMIT_CORE", RLIMIT_CORE},         {"RLIMIT_RSS", RLIMIT_RSS},
    {"RLIMIT_NPROC", RLIMIT_NPROC},       {"RLIMIT_NOFILE", RLIMIT_NOFILE},
    {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},   {"RLIMIT_AS", RLIMIT_AS},
    {"RLIMIT_LOCKS", RLIMIT_LOCKS},       {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
    {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE}, {"RLIMIT_NICE", RLIMIT_NICE},
    {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},     {"RLIMIT_RTTIME", RLIMIT_RTTIME},
};

// Signal names without "SIG", from the libc headers so that the numbers are
// right on every architecture.
constexpr NamedNumber signal_names[] = {
    {"HUP", SIGHUP},       {"INT", SIGINT},   {"QUIT", SIGQUIT},     {"ILL", SIGILL},
    {"TRAP", SIGTRAP},     {"ABRT", SIGABRT}, {"IOT", SIGIOT},       {"BUS", SIGBUS},
    {"FPE", SIGFPE},       {"KILL", SIGKILL}, {"USR1", SIGUSR1},     {"SEGV", SIGSEGV},
    {"USR2", SIGUSR2},     {"PIPE", SIGPIPE}, {"ALRM", SIGALRM},     {"TERM", SIGTERM},
#ifdef SIGSTKFLT
    {"STKFLT", SIGSTKFLT},
#endif
    {"CHLD", SIGCHLD},     {"CLD", SIGCHLD},  {"CONT", SIGCONT},     {"STOP", SIGSTOP},
    {"TSTP", SIGTSTP},     {"TTIN", SIGTTIN}, {"TTOU", SIGTTOU},     {"URG", SIGURG},
    {"XCPU", SIGXCPU},     {"XFSZ", SIGXFSZ}, {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF},
    {"WINCH", SIGWINCH},   {"IO", SIGIO},     {"POLL", SIGPOLL},     {"PWR", SIGPWR},
    {"SYS", SIGSYS},
};

// Real-time signals as the workload's libc numbers them. glibc's SIGRTMIN is
// 34 (it keeps 32 and 33), and that is what runc, Docker and kill(1) use;
// reaper's own libc (musl says 35) must not decide what the container gets.
constexpr int rt_min = 34;
constexpr int rt_max = 64;

constexpr std::string_view namespace_types[] = {"pid", "network", "mount",  "ipc",
                                                "uts", "user",    "cgroup", "time"};

std::optional<int> lookup(std::span<const NamedNumber> table, std::string_view name) {
  for (const auto& entry : table)
    if (entry.name == name) return entry.number;
  return std::nullopt;
}

// --- paths and fields --------------------------------------------------------

std::string member_path(std::string_view path, std::string_view key) {
  if (path.empty()) return std::string(key);
  return fmt::format("{}.{}", path, key);
}

std::string item_path(std::string_view path, size_t i) {
  return fmt::format("{}[{}]", path, i);
}

// Index of the first item whose key repeats an earlier item's.
template <typename T, typename Key>
std::optional<size_t> find_duplicate(const std::vector<T>& items, Key key) {
  for (size_t i = 1; i < items.size(); ++i)
    for (size_t j = 0; j < i; ++j)
      if (std::invoke(key, items[j]) == std::invoke(key, items[i])) return i;
  return std::nullopt;
}

// A JSON object being read, with its path for messages.
class Fields {
 public:
  Fields(object obj, std::string path) : obj_(obj), path_(std::move(path)) {}

  [[nodiscard]] std::string path(std::string_view key) const { return member_path(path_, key); }

  [[nodiscard]] std::optional<element> find(std::string_view key) const {
    element e;
    if (obj_.at_key(key).get(e) != simdjson::SUCCESS || e.is_null()) return std::nullopt;
    return e;
  }

  [[nodiscard]] Result<element> require(std::string_view key) const {
    if (auto e = find(key)) return *e;
    return make_error("{}: missing required field", path(key));
  }

 private:
  object obj_;
  std::string path_;
};

template <typename T>
using Reader = Result<T> (*)(element, const std::string&);

// Reads an optional field into `out`, leaving it alone when absent.
template <typename T, typename Out>
Status optional_field(const Fields& f, std::string_view key, Reader<T> read, Out& out) {
  auto e = f.find(key);
  if (!e) return {};
  out = REAPER_TRY(read(*e, f.path(key)));
  return {};
}

template <typename T>
Result<T> required_field(const Fields& f, std::string_view key, Reader<T> read) {
  element e = REAPER_TRY(f.require(key));
  return read(e, f.path(key));
}

// --- scalars -----------------------------------------------------------------

Result<std::string> read_string(element e, const std::string& path) {
  std::string_view v;
  if (e.get_string().get(v) != simdjson::SUCCESS) return make_error("{}: expected string", path);
  return std::string(v);
}

// A string that goes to a system call, where a NUL would silently cut it.
Result<std::string> read_cstring(element e, const std::string& path) {
  std::string v = REAPER_TRY(read_string(e, path));
  if (v.find('\0') != std::string::npos) return make_error("{}: contains a NUL byte", path);
  return v;
}

Result<std::string> read_absolute_path(element e, const std::string& path) {
  std::string v = REAPER_TRY(read_cstring(e, path));
  if (v.empty() || v[0] != '/') return make_error("{}: must be an absolute path", path);
  return v;
}

Result<bool> read_bool(element e, const std::string& path) {
  bool v = false;
  if (e.get_bool().get(v) != simdjson::SUCCESS) return make_error("{}: expected boolean", path);
  return v;
}

Result<uint64_t> read_uint64(element e, const std::string& path) {
  uint64_t v = 0;
  if (e.get_uint64().get(v) != simdjson::SUCCESS)
    return make_error("{}: expected unsigned integer", path);
  return v;
}

Result<uint32_t> read_uint32(element e, const std::string& path) {
  uint64_t v = REAPER_TRY(read_uint64(e, path));
  if (v > std::numeric_limits<uint32_t>::max())
    return make_error("{}: {} does not fit in 32 bits", path, v);
  return static_cast<uint32_t>(v);
}

Result<int64_t> read_int64(element e, const std::string& path) {
  int64_t v = 0;
  auto err = e.get_int64().get(v);
  if (err == simdjson::NUMBER_OUT_OF_RANGE) return make_error("{}: integer out of range", path);
  if (err != simdjson::SUCCESS) return make_error("{}: expected integer", path);
  return v;
}

// A uid or gid. (uid_t)-1 is refused: setresuid() and friends read it as
// "leave unchanged", which would keep the process root.
Result<uint32_t> read_id(element e, const std::string& path) {
  uint32_t v = REAPER_TRY(read_uint32(e, path));
  if (v == std::numeric_limits<uint32_t>::max())
    return make_error("{}: {} is not a valid ID", path, v);
  return v;
}

Result<mode_t> read_umask(element e, const std::string& path) {
  uint64_t v = REAPER_TRY(read_uint64(e, path));
  if (v > 0777) return make_error("{}: {:#o} is greater than 0777", path, v);
  return static_cast<mode_t>(v);
}

Result<int> read_oom_score_adj(element e, const std::string& path) {
  int64_t v = REAPER_TRY(read_int64(e, path));
  if (v < -1000 || v > 1000) return make_error("{}: must be between -1000 and 1000", path);
  return static_cast<int>(v);
}

// --- containers --------------------------------------------------------------

Result<Fields> read_fields(element e, const std::string& path) {
  object obj;
  if (e.get_object().get(obj) != simdjson::SUCCESS) {
    if (path.empty()) return make_error("expected a JSON object");
    return make_error("{}: expected object", path);
  }
  return Fields(obj, path);
}

Result<array> read_array(element e, const std::string& path) {
  array arr;
  if (e.get_array().get(arr) != simdjson::SUCCESS) return make_error("{}: expected array", path);
  return arr;
}

// Reads every element of an array with `read`.
template <typename T>
Result<std::vector<T>> read_list(element e, const std::string& path, Reader<T> read) {
  array arr = REAPER_TRY(read_array(e, path));
  std::vector<T> out;
  out.reserve(arr.size());
  size_t i = 0;
  for (element item : arr) {
    out.push_back(REAPER_TRY(read(item, item_path(path, i))));
    ++i;
  }
  return out;
}

Result<std::vector<std::string>> read_string_list(element e, const std::string& path) {
  return read_list<std::string>(e, path, read_cstring);
}

// --- process -----------------------------------------------------------------

Result<std::vector<std::string>> read_args(element e, const std::string& path) {
  auto args = REAPER_TRY(read_string_list(e, path));
  if (args.empty()) return make_error("{}: must not be empty", path);
  return args;
}

// The message names the entry by index only: environments carry secrets.
Result<std::string> read_env_entry(element e, const std::string& path) {
  std::string v = REAPER_TRY(read_cstring(e, path));
  if (v.find('=') == std::string::npos) return make_error("{}: expected KEY=VALUE", path);
  return v;
}

Result<std::vector<std::string>> read_env(element e, const std::string& path) {
  return read_list<std::string>(e, path, read_env_entry);
}

Result<std::string> read_capability(element e, const std::string& path) {
  std::string v = REAPER_TRY(read_string(e, path));
  if (!capability_number(v)) return make_error("{}: unknown capability `{}`", path, v);
  return v;
}

Result<std::vector<std::string>> read_capability_list(element e, const std::string& path) {
  return read_list<std::string>(e, path, read_capability);
}

Result<Capabilities> read_capabilities(element e, const std::string& path) {
  Fields f = REAPER_TRY(read_fields(e, path));
  Capabilities caps;
  REAPER_TRY(optional_field(f, "bounding", read_capability_list, caps.bounding));
  REAPER_TRY(optional_field(f, "effective", read_capability_list, caps.effective));
  REAPER_TRY(optional_field(f, "inheritable", read_capability_list, caps.inheritable));
  REAPER_TRY(optional_field(f, "permitted", read_capability_list, caps.permitted));
  REAPER_TRY(optional_field(f, "ambient", read_capability_list, caps.ambient));
  return caps;
}

Result<std::string> read_rlimit_type(element e, const std::string& path) {
  std::string v = REAPER_TRY(read_string(e, path));
  if (!rlimit_resource(v)) return make_error("{}: unknown rlimit type `{}`", path, v);
  return v;
}

Result<Rlimit> read_rlimit(element e, const std::string& path) {
  Fields f = REAPER_TRY(read_fields(e, path));
  Rlimit r;
  r.type = REAPER_TRY(required_field(f, "type", read_rlimit_type));
  r.hard = REAPER_TRY(required_field(f, "hard", read_uint64));
  r.soft = REAPER_TRY(required_field(f, "soft", read_uint64));
  if (r.soft > r.hard)
    return make_error("{}: soft limit {} is above hard limit {}", path, r.soft, r.hard);
  return r;
}

Result<std::vector<Rlimit>> read_rlimits(element e, const std::string& path) {
  auto rlimits = REAPER_TRY(read_list<Rlimit>(e, path, read_rlimit));
  if (auto i = find_duplicate(rlimits, &Rlimit::type))
    return make_error("{}.type: duplicate `{}`", item_path(path, *i), rlimits[*i].type);
  return rlimits;
}

Result<ConsoleSize> read_console_size(element e, const std::string& path) {
  Fields f = REAPER_TRY(read_fields(e, path));
  ConsoleSize size;
  size.height = REAPER_TRY(required_field(f, "height", read_uint32));
  size.width = REAPER_TRY(required_field(f, "width", read_uint32));
  return size;
}

Result<std::vector<uint32_t>> read_gids(element e, const std::string& path) {
  return read_list<uint32_t>(e, path, read_id);
}

Result<User> read_user(element e, const std::string& path) {
  Fields f = REAPER_TRY(read_fields(e, path));
  User user;
  user.uid = REAPER_TRY(required_field(f, "uid", read_id));
  user.gid = REAPER_TRY(required_field(f, "gid", read_id));
  REAPER_TRY(optional_field(f, "umask", read_umask, user.umask));
  REAPER_TRY(optional_field(f, "additionalGids", read_gids, user.additional_gids));
  return user;
}

Result<Process> read_process(element e, const std::string& path) {
  Fields f = REAPER_TRY(read_fields(e, path));
  Process p;
  REAPER_TRY(optional_field(f, "terminal", read_bool, p.terminal));
  REAPER_TRY(optional_field(f, "consoleSize", read_console_size, p.console_size));
  p.user = REAPER_TRY(required_field(f, "user", read_user));
  p.args = REAPER_TRY(required_field(f, "args", read_args));
  REAPER_TRY(optional_field(f, "env", read_env, p.env));
  p.cwd = REAPER_TRY(required_field(f, "cwd", read_absolute_path));
  REAPER_TRY(optional_field(f, "capabilities", read_capabilities, p.capabilities));
  REAPER_TRY(optional_field(f, "rlimits", read_rlimits, p.rlimits));
  REAPER_TRY(optional_field(f, "noNewPrivileges", read_bool, p.no_new_privileges));
  REAPER_TRY(optional_field(f, "oomScoreAdj", read_oom_score_adj, p.oom_score_adj));
  return p;
}

// --- the rest of the spec ----------------------------------------------------

Result<Mount> read_mount(element e, const std::string& path) {
  Fields f = REAPER_TRY(read_fields(e, path));
  Mount m;
  m.destination = REAPER_TRY(required_field(f, "destination", read_absolute_path));
  REAPER_TRY(optional_field(f, "type", read_cstring, m.type));
  REAPER_TRY(optional_field(f, "source", read_cstring, m.source));
  REAPER_TRY(optional_field(f, "options", read_string_list, m.options));
  return m;
}

Result<std::vector<Mount>> read_mounts(element e, const std::string& path) {
  return read_list<Mount>(e, path, read_mount);
}

Result<std::string> read_namespace_type(element e, const std::string& path) {
  std::string v = REAPER_TRY(read_string(e, path));
  if (std::find(std::begin(namespace_types), std::end(namespace_types), v) ==
      std::end(namespace_types))
    return make_error("{}: unknown namespace type `{}`", path, v);
  return v;
}

Result<Namespace> read_namespace(element e, const std::string& path) {
  Fields f = REAPER_TRY(read_fields(e, path));
  Namespace ns;
  ns.type = REAPER_TRY(required_field(f, "type", read_namespace_type));
  REAPER_TRY(optional_field(f, "path", read_absolute_path, ns.path));
  return ns;
}

// The spec: "If a namespace type is specified more than once, the runtime MUST
// generate an error."
Result<std::vector<Namespace>> read_namespaces(element e, const std::string& path) {
  auto namespaces = REAPER_TRY(read_list<Namespace>(e, path, read_namespace));
  if (auto i = find_duplicate(namespaces, &Namespace::type))
    return make_error("{}.type: duplicate `{}`", item_path(path, *i), namespaces[*i].type);
  return namespaces;
}

Result<std::string> read_resources(element e, const std::string& path) {
  object obj;
  if (e.get_object().get(obj) != simdjson::SUCCESS) return make_error("{}: expected object", path);
  return simdjson::to_string(obj);
}

Result<std::map<std::string, std::string>> read_annotations(element e, const std::string& path) {
  object obj;
  if (e.get_object().get(obj) != simdjson::SUCCESS) return make_error("{}: expected object", path);
  std::map<std::string, std::string> out;
  for (auto [key, value] : obj) {
    std::string where = fmt::format("{}[{}]", path, json_quote(key));
    out.insert_or_assign(std::string(key), REAPER_TRY(read_string(value, where)));
  }
  return out;
}

Status read_root(element e, const std::string& path, Spec& spec) {
  Fields f = REAPER_TRY(read_fields(e, path));
  spec.root_path = REAPER_TRY(required_field(f, "path", read_cstring));
  REAPER_TRY(optional_field(f, "readonly", read_bool, spec.root_readonly));
  return {};
}

Status read_linux(element e, const std::string& path, Spec& spec) {
  Fields f = REAPER_TRY(read_fields(e, path));
  REAPER_TRY(optional_field(f, "cgroupsPath", read_cstring, spec.cgroups_path));
  REAPER_TRY(optional_field(f, "resources", read_resources, spec.resources_json));
  REAPER_TRY(optional_field(f, "namespaces", read_namespaces, spec.namespaces));
  return {};
}

Result<Spec> read_spec(element e) {
  Fields f = REAPER_TRY(read_fields(e, ""));
  Spec spec;
  spec.oci_version = REAPER_TRY(required_field(f, "ociVersion", read_string));
  REAPER_TRY(optional_field(f, "process", read_process, spec.process));
  if (auto root = f.find("root")) REAPER_TRY(read_root(*root, f.path("root"), spec));
  REAPER_TRY(optional_field(f, "hostname", read_cstring, spec.hostname));
  REAPER_TRY(optional_field(f, "mounts", read_mounts, spec.mounts));
  REAPER_TRY(optional_field(f, "annotations", read_annotations, spec.annotations));
  if (auto linux_e = f.find("linux")) REAPER_TRY(read_linux(*linux_e, f.path("linux"), spec));
  return spec;
}

// --- documents ---------------------------------------------------------------

Error with_origin(Error err, std::string_view origin) {
  if (origin.empty()) return err;
  return std::move(err).wrap(origin);
}

template <typename T>
Result<T> parse_with(std::string_view json, std::string_view origin, Result<T> (*read)(element)) {
  simdjson::dom::parser parser;
  auto root = parse_json(parser, json);
  if (!root) return with_origin(std::move(root).error(), origin);
  auto out = read(*root);
  if (!out) return with_origin(std::move(out).error(), origin);
  return out;
}

Result<Process> read_standalone_process(element e) {
  return read_process(e, "");
}

// --- signals -----------------------------------------------------------------

std::optional<int> parse_decimal(std::string_view text) {
  int v = 0;
  const char* last = text.data() + text.size();
  auto [end, ec] = std::from_chars(text.data(), last, v);
  if (ec != std::errc() || end != last) return std::nullopt;
  return v;
}

// "RTMIN", "RTMIN+3", "RTMAX", "RTMAX-1" (already upper case, without "SIG").
std::optional<int> realtime_signal(std::string_view name) {
  int base = 0, sign = 0;
  if (name.starts_with("RTMIN")) {
    base = rt_min;
    sign = 1;
  } else if (name.starts_with("RTMAX")) {
    base = rt_max;
    sign = -1;
  } else {
    return std::nullopt;
  }
  std::string_view rest = name.substr(5);
  if (rest.empty()) return base;
  if (rest[0] != (sign > 0 ? '+' : '-')) return std::nullopt;
  auto offset = parse_decimal(rest.substr(1));
  if (!offset || *offset > rt_max - rt_min) return std::nullopt;
  return base + sign * *offset;
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return out;
}

// "SIGTERM", "TERM", "term", "SIGRTMIN+3", ...
std::optional<int> named_signal(std::string_view text) {
  std::string name = upper(text);
  std::string_view bare = name;
  if (bare.starts_with("SIG")) bare.remove_prefix(3);
  if (auto n = lookup(signal_names, bare)) return n;
  return realtime_signal(bare);
}

}  // namespace

std::optional<int> capability_number(std::string_view name) {
  for (size_t i = 0; i < std::size(capability_names); ++i)
    if (capability_names[i] == name) return static_cast<int>(i);
  return std::nullopt;
}

std::optional<int> rlimit_resource(std::string_view type) {
  return lookup(rlimit_types, type);
}

Result<Spec> parse_spec(std::string_view json, std::string_view origin) {
  return parse_with<Spec>(json, origin, read_spec);
}

Result<Process> parse_process(std::string_view json, std::string_view origin) {
  return parse_with<Process>(json, origin, read_standalone_process);
}

Result<Spec> load_spec(const std::string& bundle) {
  std::string path = bundle + "/config.json";
  std::string text = REAPER_TRY(fs::read_file(path));
  return parse_spec(text, fmt::format("`{}`", path));
}

Result<int> parse_signal(std::string_view text) {
  auto n = parse_decimal(text);
  if (!n) n = named_signal(text);
  if (!n || *n < 1 || *n > rt_max) return make_error("invalid signal `{}`", text);
  return *n;
}

}  // namespace reaper::oci
