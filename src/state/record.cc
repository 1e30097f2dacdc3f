#include "state/record.h"

#include <simdjson.h>

#include <ctime>
#include <limits>
#include <type_traits>

#include "common/json.h"
#include "common/json_read.h"

namespace reaper::state {

namespace {

using simdjson::dom::element;
using simdjson::dom::object;

Error bad(std::string_view origin, std::string_view field, std::string_view why) {
  return make_error("{}: {}: {}", origin, field, why);
}

Result<object> parse_object(simdjson::dom::parser& parser, std::string_view json,
                            std::string_view origin) {
  element doc = REAPER_TRY_CTX(parse_json(parser, json), "{}", origin);
  object obj;
  if (doc.get(obj) != simdjson::SUCCESS) return make_error("{}: expected a JSON object", origin);
  int64_t version = 0;
  if (obj["version"].get(version) != simdjson::SUCCESS)
    return bad(origin, "version", "missing or not an integer");
  if (version != record_version)
    return bad(origin, "version", fmt::format("unsupported record version {}", version));
  return obj;
}

// Optional fields: absent is fine, a wrong type is an error.
template <typename T>
Status get_opt(const object& obj, std::string_view origin, std::string_view key, T& out) {
  auto field = obj[key];
  if (field.error() == simdjson::NO_SUCH_FIELD) return {};
  if constexpr (std::is_same_v<T, std::string>) {
    std::string_view sv;
    if (field.get(sv) != simdjson::SUCCESS) return bad(origin, key, "expected a string");
    out = std::string(sv);
  } else if constexpr (std::is_same_v<T, bool>) {
    if (field.get(out) != simdjson::SUCCESS) return bad(origin, key, "expected a boolean");
  } else if constexpr (std::is_unsigned_v<T>) {
    uint64_t v = 0;
    if (field.get(v) != simdjson::SUCCESS) return bad(origin, key, "expected an unsigned integer");
    if constexpr (sizeof(T) < sizeof v) {
      if (v > std::numeric_limits<T>::max())
        return bad(origin, key, fmt::format("{} is out of range", v));
    }
    out = static_cast<T>(v);
  } else {
    // A value that does not fit is refused, not cut: a pid of 2^32+1 must
    // not become pid 1.
    int64_t v = 0;
    if (field.get(v) != simdjson::SUCCESS) return bad(origin, key, "expected an integer");
    if constexpr (sizeof(T) < sizeof v) {
      if (v < std::numeric_limits<T>::min() || v > std::numeric_limits<T>::max())
        return bad(origin, key, fmt::format("{} is out of range", v));
    }
    out = static_cast<T>(v);
  }
  return {};
}

}  // namespace

std::string to_json(const ProcessRecord& r) {
  JsonWriter w;
  w.begin_object();
  w.key("version").value(int64_t{record_version});
  w.key("id").value(r.id);
  if (!r.exec_id.empty()) w.key("exec_id").value(r.exec_id);
  w.key("bundle").value(r.bundle);
  w.key("pid").value(int64_t{r.pid});
  w.key("monitor_pid").value(int64_t{r.monitor_pid});
  w.key("monitor_start").value(r.monitor_start);
  w.key("created_ns").value(r.created_ns);
  w.key("terminal").value(r.terminal);
  w.key("sandbox").value(r.sandbox);
  w.key("stdin").value(r.stdin_path);
  w.key("stdout").value(r.stdout_path);
  w.key("stderr").value(r.stderr_path);
  w.key("overlay_group").value(r.overlay_group);
  if (!r.netns.empty()) w.key("netns").value(r.netns);
  w.key("annotations").begin_object();
  for (const auto& [k, v] : r.annotations) w.key(k).value(v);
  w.end_object();
  w.end_object();
  return w.str();
}

std::string to_json(const ExitRecord& r) {
  JsonWriter w;
  w.begin_object();
  w.key("version").value(int64_t{record_version});
  w.key("status").value(int64_t{r.status});
  w.key("exited_ns").value(r.exited_ns);
  w.key("reason").value(r.reason);
  w.end_object();
  return w.str();
}

Result<ProcessRecord> parse_process_record(std::string_view json, std::string_view origin) {
  simdjson::dom::parser parser;
  object obj = REAPER_TRY(parse_object(parser, json, origin));
  ProcessRecord r;
  REAPER_TRY(get_opt(obj, origin, "id", r.id));
  REAPER_TRY(get_opt(obj, origin, "exec_id", r.exec_id));
  REAPER_TRY(get_opt(obj, origin, "bundle", r.bundle));
  REAPER_TRY(get_opt(obj, origin, "pid", r.pid));
  REAPER_TRY(get_opt(obj, origin, "monitor_pid", r.monitor_pid));
  REAPER_TRY(get_opt(obj, origin, "monitor_start", r.monitor_start));
  REAPER_TRY(get_opt(obj, origin, "created_ns", r.created_ns));
  REAPER_TRY(get_opt(obj, origin, "terminal", r.terminal));
  REAPER_TRY(get_opt(obj, origin, "sandbox", r.sandbox));
  REAPER_TRY(get_opt(obj, origin, "stdin", r.stdin_path));
  REAPER_TRY(get_opt(obj, origin, "stdout", r.stdout_path));
  REAPER_TRY(get_opt(obj, origin, "stderr", r.stderr_path));
  REAPER_TRY(get_opt(obj, origin, "overlay_group", r.overlay_group));
  REAPER_TRY(get_opt(obj, origin, "netns", r.netns));
  if (r.id.empty()) return bad(origin, "id", "missing");
  object ann;
  auto field = obj["annotations"];
  if (field.error() != simdjson::NO_SUCH_FIELD) {
    if (field.get(ann) != simdjson::SUCCESS)
      return bad(origin, "annotations", "expected an object");
    for (auto [k, v] : ann) {
      std::string_view sv;
      if (v.get(sv) != simdjson::SUCCESS)
        return bad(origin, fmt::format("annotations.{}", k), "expected a string");
      r.annotations.emplace(std::string(k), std::string(sv));
    }
  }
  return r;
}

Result<ExitRecord> parse_exit_record(std::string_view json, std::string_view origin) {
  simdjson::dom::parser parser;
  object obj = REAPER_TRY(parse_object(parser, json, origin));
  ExitRecord r;
  REAPER_TRY(get_opt(obj, origin, "status", r.status));
  REAPER_TRY(get_opt(obj, origin, "exited_ns", r.exited_ns));
  REAPER_TRY(get_opt(obj, origin, "reason", r.reason));
  return r;
}

int64_t now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

std::string format_rfc3339(int64_t ns) {
  time_t secs = static_cast<time_t>(ns / 1'000'000'000);
  long frac = static_cast<long>(ns % 1'000'000'000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return fmt::format("{}.{:09d}Z", buf, frac);
}

}  // namespace reaper::state
