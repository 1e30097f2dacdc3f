// reaper-runtime update: new resource limits for a running container, as
// runc's `update`: from OCI LinuxResources JSON (--resources FILE, or - for
// stdin) or from flags. Fields not given are left as they are.
#include <unistd.h>

#include <charconv>
#include <cstdint>

#include "common/fs.h"
#include "common/json.h"
#include "runtime/cli.h"

namespace reaper::cli {

namespace {

constexpr std::string_view usage_text =
    "update [--resources FILE|-] [--memory N] [--memory-reservation N] [--memory-swap N] "
    "[--cpu-share N] [--cpu-quota N] [--cpu-period N] [--cpuset-cpus L] [--cpuset-mems L] "
    "[--pids-limit N] ID";

Result<int64_t> parse_int(std::string_view flag, std::string_view text) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || p != text.data() + text.size())
    return make_error("--{}: `{}` is not an integer", flag, text);
  return v;
}

// Bytes: a number with an optional binary suffix (k, m, g, t; a trailing
// "b" is allowed: 512m, 512MB, 1g), or -1 for unlimited.
Result<int64_t> parse_bytes(std::string_view flag, std::string_view text) {
  if (text == "-1") return -1;
  std::string_view digits = text;
  int shift = 0;
  if (digits.size() > 1 && (digits.back() == 'b' || digits.back() == 'B')) digits.remove_suffix(1);
  if (!digits.empty()) {
    switch (digits.back()) {
      case 'k':
      case 'K':
        shift = 10;
        break;
      case 'm':
      case 'M':
        shift = 20;
        break;
      case 'g':
      case 'G':
        shift = 30;
        break;
      case 't':
      case 'T':
        shift = 40;
        break;
      default:
        break;
    }
    if (shift != 0) digits.remove_suffix(1);
  }
  auto v = parse_int(flag, digits);
  if (!v.ok() || *v < 0 || *v > (INT64_MAX >> shift))
    return make_error("--{}: `{}` is not a size (like 512m, 1g, or -1)", flag, text);
  return *v << shift;
}

Result<std::string> read_stdin() {
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(0, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys_error("read stdin");
    if (n == 0) return out;
    out.append(buf, static_cast<size_t>(n));
  }
}

struct FlagField {
  std::string_view flag;     // canonical flag name
  std::string_view section;  // "memory", "cpu", "pids"
  std::string_view key;      // OCI field
  enum { bytes, integer, text } kind;
};

constexpr FlagField fields[] = {
    {"memory", "memory", "limit", FlagField::bytes},
    {"memory-reservation", "memory", "reservation", FlagField::bytes},
    {"memory-swap", "memory", "swap", FlagField::bytes},
    {"cpu-share", "cpu", "shares", FlagField::integer},
    {"cpu-quota", "cpu", "quota", FlagField::integer},
    {"cpu-period", "cpu", "period", FlagField::integer},
    {"cpuset-cpus", "cpu", "cpus", FlagField::text},
    {"cpuset-mems", "cpu", "mems", FlagField::text},
    {"pids-limit", "pids", "limit", FlagField::integer},
};

// LinuxResources JSON from the flags that were given.
Result<std::string> json_from_flags(const Flags& f) {
  JsonWriter w;
  w.begin_object();
  for (std::string_view section : {"memory", "cpu", "pids"}) {
    bool open = false;
    for (const auto& field : fields) {
      if (field.section != section || !f.has(field.flag)) continue;
      if (!open) w.key(section).begin_object();
      open = true;
      std::string v = f.get(field.flag);
      w.key(field.key);
      if (field.kind == FlagField::text)
        w.value(v);
      else if (field.kind == FlagField::bytes)
        w.value(REAPER_TRY(parse_bytes(field.flag, v)));
      else
        w.value(REAPER_TRY(parse_int(field.flag, v)));
    }
    if (open) w.end_object();
  }
  w.end_object();
  return w.str();
}

Result<std::string> resources_json(const Flags& f) {
  bool any_flag = false;
  for (const auto& field : fields) any_flag = any_flag || f.has(field.flag);
  if (!f.has("resources")) {
    if (!any_flag) return make_error("nothing to update: usage: reaper-runtime {}", usage_text);
    return json_from_flags(f);
  }
  if (any_flag) return make_error("--resources cannot be combined with the other flags");
  std::string path = f.get("resources");
  if (path == "-") return read_stdin();
  return fs::read_file(path, 1 << 20);
}

}  // namespace

int cmd_update(const Invocation& inv) {
  auto flags = Flags::parse(inv.args, {{"resources|r", true},
                                       {"memory", true},
                                       {"memory-reservation", true},
                                       {"memory-swap", true},
                                       {"cpu-share|cpu-shares", true},
                                       {"cpu-quota", true},
                                       {"cpu-period", true},
                                       {"cpuset-cpus", true},
                                       {"cpuset-mems", true},
                                       {"pids-limit", true}});
  if (!flags) return fail(inv, flags.error());
  if (auto st = expect_positional(*flags, 1, usage_text); !st) return fail(inv, st.error());
  auto json = resources_json(*flags);
  if (!json) return fail(inv, json.error());
  auto ctx = context(inv);
  if (!ctx) return fail(inv, ctx.error());
  if (auto st = runtime::update(*ctx, flags->positional[0], *json); !st)
    return fail(inv, st.error());
  return 0;
}

}  // namespace reaper::cli
