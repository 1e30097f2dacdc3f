// Parsing and planning only: nothing here touches a file, so every
// conversion and every refusal is unit-tested without a cgroupfs.

#include "cgroup/resources.h"

#include <simdjson.h>

#include "cgroup/files.h"
#include "common/json_read.h"

namespace reaper::cgroup {

namespace {

using simdjson::dom::element;
using simdjson::dom::object;

// --- reading -----------------------------------------------------------------

std::string member(std::string_view path, std::string_view key) {
  return fmt::format("{}.{}", path, key);
}

std::optional<element> find(object obj, std::string_view key) {
  element e;
  if (obj.at_key(key).get(e) != simdjson::SUCCESS || e.is_null()) return std::nullopt;
  return e;
}

Result<std::optional<object>> find_object(object obj, std::string_view key,
                                          const std::string& path) {
  auto e = find(obj, key);
  if (!e) return std::optional<object>();
  object out;
  if (e->get_object().get(out) != simdjson::SUCCESS)
    return make_error("{}: expected object", member(path, key));
  return std::optional<object>(out);
}

Result<std::optional<int64_t>> find_int(object obj, std::string_view key, const std::string& path) {
  auto e = find(obj, key);
  if (!e) return std::optional<int64_t>();
  int64_t v = 0;
  auto err = e->get_int64().get(v);
  if (err == simdjson::NUMBER_OUT_OF_RANGE)
    return make_error("{}: integer out of range", member(path, key));
  if (err != simdjson::SUCCESS) return make_error("{}: expected integer", member(path, key));
  return std::optional<int64_t>(v);
}

Result<std::optional<uint64_t>> find_uint(object obj, std::string_view key,
                                          const std::string& path) {
  auto e = find(obj, key);
  if (!e) return std::optional<uint64_t>();
  uint64_t v = 0;
  if (e->get_uint64().get(v) != simdjson::SUCCESS)
    return make_error("{}: expected unsigned integer", member(path, key));
  return std::optional<uint64_t>(v);
}

Result<std::optional<std::string>> find_string(object obj, std::string_view key,
                                               const std::string& path) {
  auto e = find(obj, key);
  if (!e) return std::optional<std::string>();
  std::string_view v;
  if (e->get_string().get(v) != simdjson::SUCCESS)
    return make_error("{}: expected string", member(path, key));
  return std::optional<std::string>(v);
}

// --- validation --------------------------------------------------------------

// runc's convention: 0 means "not set"; -1 means unlimited; below is invalid.
Result<std::optional<int64_t>> limit_value(std::optional<int64_t> v, const std::string& path) {
  if (!v || *v == 0) return std::optional<int64_t>();
  if (*v < -1) return make_error("{}: {} is negative (use -1 for unlimited)", path, *v);
  return v;
}

// "0-3,5,7-8": what cpuset.cpus and cpuset.mems accept.
bool valid_cpu_list(std::string_view s) {
  if (s.empty()) return false;
  for (std::string_view item : split(s, ',')) {
    auto dash = item.find('-');
    auto lo = parse_u64(item.substr(0, dash));
    if (!lo || item.find_first_of(" \t\n") != std::string_view::npos) return false;
    if (dash == std::string_view::npos) continue;
    auto hi = parse_u64(item.substr(dash + 1));
    if (!hi || *hi < *lo) return false;
  }
  return true;
}

// A file name under the container's v2 cgroup: "<controller>.<name>", never
// a cgroup.* core file (cgroup.procs, cgroup.kill, cgroup.subtree_control).
bool valid_unified_key(std::string_view k) {
  auto dot = k.find('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 == k.size()) return false;
  if (k.starts_with("cgroup.")) return false;
  for (char c : k) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

Status read_memory(object obj, const std::string& path, Resources& r) {
  r.memory_limit =
      REAPER_TRY(limit_value(REAPER_TRY(find_int(obj, "limit", path)), member(path, "limit")));
  r.memory_reservation = REAPER_TRY(
      limit_value(REAPER_TRY(find_int(obj, "reservation", path)), member(path, "reservation")));
  r.memory_swap =
      REAPER_TRY(limit_value(REAPER_TRY(find_int(obj, "swap", path)), member(path, "swap")));
  if (r.memory_swap && *r.memory_swap > 0) {
    if (!r.memory_limit || *r.memory_limit < 0)
      return make_error("{}: a swap limit needs a memory limit ({})", member(path, "swap"),
                        member(path, "limit"));
    if (*r.memory_swap < *r.memory_limit)
      return make_error("{}: {} is below the memory limit {} (swap is memory+swap)",
                        member(path, "swap"), *r.memory_swap, *r.memory_limit);
  }
  return {};
}

Status read_cpu(object obj, const std::string& path, Resources& r) {
  auto shares = REAPER_TRY(find_uint(obj, "shares", path));
  if (shares && *shares != 0) {
    if (*shares < 2 || *shares > 262144)
      return make_error("{}: {} is outside 2..262144", member(path, "shares"), *shares);
    r.cpu_shares = shares;
  }
  auto quota = REAPER_TRY(find_int(obj, "quota", path));
  if (quota && *quota != 0) {
    if (*quota < -1)
      return make_error("{}: {} is negative (use -1 for unlimited)", member(path, "quota"), *quota);
    if (*quota > 0 && *quota < 1000)
      return make_error("{}: {} is below the kernel's minimum of 1000 (1 ms)",
                        member(path, "quota"), *quota);
    r.cpu_quota = quota;
  }
  auto period = REAPER_TRY(find_uint(obj, "period", path));
  if (period && *period != 0) {
    if (*period < 1000 || *period > 1000000)
      return make_error("{}: {} is outside 1000..1000000 (1 ms to 1 s)", member(path, "period"),
                        *period);
    r.cpu_period = period;
  }
  // Real-time bandwidth (v1 only; plan() refuses it on v2). A SCHED_FIFO or
  // SCHED_RR process cannot even join a v1 cpu cgroup whose runtime is 0.
  auto rt_runtime = REAPER_TRY(find_int(obj, "realtimeRuntime", path));
  if (rt_runtime && *rt_runtime != 0) {
    if (*rt_runtime < -1)
      return make_error("{}: {} is negative (use -1 for unlimited)",
                        member(path, "realtimeRuntime"), *rt_runtime);
    r.cpu_rt_runtime = rt_runtime;
  }
  auto rt_period = REAPER_TRY(find_uint(obj, "realtimePeriod", path));
  if (rt_period && *rt_period != 0) r.cpu_rt_period = rt_period;
  if (r.cpu_rt_runtime && r.cpu_rt_period && *r.cpu_rt_runtime > 0 &&
      static_cast<uint64_t>(*r.cpu_rt_runtime) > *r.cpu_rt_period)
    return make_error("{}: {} is longer than {} {}", member(path, "realtimeRuntime"),
                      *r.cpu_rt_runtime, member(path, "realtimePeriod"), *r.cpu_rt_period);
  for (auto [key, out] : {std::pair{"cpus", &r.cpuset_cpus}, std::pair{"mems", &r.cpuset_mems}}) {
    auto v = REAPER_TRY(find_string(obj, key, path));
    if (!v || v->empty()) continue;
    if (!valid_cpu_list(*v))
      return make_error("{}: `{}` is not a list like `0-3,5`", member(path, key), *v);
    *out = v;
  }
  return {};
}

Status read_pids(object obj, const std::string& path, Resources& r) {
  auto limit = REAPER_TRY(find_int(obj, "limit", path));
  if (limit && *limit != 0) r.pids_limit = limit;
  return {};
}

Status read_unified(object obj, const std::string& path, Resources& r) {
  for (auto [key, value] : obj) {
    std::string where = fmt::format("{}[\"{}\"]", path, key);
    if (!valid_unified_key(key))
      return make_error("{}: not a controller file name (like `memory.high`)", where);
    std::string_view v;
    if (value.get_string().get(v) != simdjson::SUCCESS)
      return make_error("{}: expected string", where);
    if (v.find('\n') != std::string_view::npos || v.find('\0') != std::string_view::npos)
      return make_error("{}: contains a newline or NUL byte", where);
    r.unified.emplace(std::string(key), std::string(v));
  }
  return {};
}

Result<Resources> read_resources(object obj, const std::string& path) {
  Resources r;
  if (auto o = REAPER_TRY(find_object(obj, "memory", path)))
    REAPER_TRY(read_memory(*o, member(path, "memory"), r));
  if (auto o = REAPER_TRY(find_object(obj, "cpu", path)))
    REAPER_TRY(read_cpu(*o, member(path, "cpu"), r));
  if (auto o = REAPER_TRY(find_object(obj, "pids", path)))
    REAPER_TRY(read_pids(*o, member(path, "pids"), r));
  if (auto o = REAPER_TRY(find_object(obj, "unified", path)))
    REAPER_TRY(read_unified(*o, member(path, "unified"), r));
  return r;
}

// --- planning ----------------------------------------------------------------

std::string v1_number(int64_t v) {
  return std::to_string(v);  // v1 files take -1 for unlimited
}

std::string v2_number(int64_t v) {
  return v == -1 ? std::string("max") : std::to_string(v);
}

void add(std::vector<Step>& plan, std::string controller, std::string file, std::string value,
         bool optional = false) {
  plan.push_back(Step{{Write{std::move(controller), std::move(file), std::move(value), optional}}});
}

void plan_v1_memory(const Resources& r, std::vector<Step>& out) {
  std::optional<int64_t> swap = r.memory_swap;
  // Unlimited memory without a swap value means unlimited memory+swap too
  // (as runc): otherwise the old memsw limit would still bound the memory.
  bool implied_swap = r.memory_limit == -1 && !swap;
  if (implied_swap) swap = -1;
  Step step;
  if (r.memory_limit)
    step.writes.push_back({"memory", "memory.limit_in_bytes", v1_number(*r.memory_limit)});
  // Without swap accounting (no memsw files) a swap value that asks for no
  // swap at all, or for no limit, changes nothing: skipped.
  if (swap)
    step.writes.push_back({"memory", "memory.memsw.limit_in_bytes", v1_number(*swap),
                           implied_swap || *swap == -1 || swap == r.memory_limit});
  if (!step.writes.empty()) out.push_back(std::move(step));
  if (r.memory_reservation)
    add(out, "memory", "memory.soft_limit_in_bytes", v1_number(*r.memory_reservation));
}

void plan_v1_cpu(const Resources& r, std::vector<Step>& out) {
  if (r.cpu_shares) add(out, "cpu", "cpu.shares", std::to_string(*r.cpu_shares));
  Step step;
  if (r.cpu_period)
    step.writes.push_back({"cpu", "cpu.cfs_period_us", std::to_string(*r.cpu_period)});
  if (r.cpu_quota) step.writes.push_back({"cpu", "cpu.cfs_quota_us", v1_number(*r.cpu_quota)});
  if (!step.writes.empty()) out.push_back(std::move(step));
  // Period before runtime (as runc), retried the other way round on EINVAL.
  Step rt;
  if (r.cpu_rt_period)
    rt.writes.push_back({"cpu", "cpu.rt_period_us", std::to_string(*r.cpu_rt_period)});
  if (r.cpu_rt_runtime)
    rt.writes.push_back({"cpu", "cpu.rt_runtime_us", v1_number(*r.cpu_rt_runtime)});
  if (!rt.writes.empty()) out.push_back(std::move(rt));
}

// runc's ConvertMemorySwapToCgroupV2Value: v2 limits swap alone.
std::optional<std::string> v2_swap(const Resources& r) {
  if (r.memory_limit == -1 && !r.memory_swap) return "max";
  if (!r.memory_swap) return std::nullopt;
  if (*r.memory_swap == -1) return "max";
  return std::to_string(*r.memory_swap - *r.memory_limit);  // validated: limit > 0, swap >= limit
}

void plan_v2_memory(const Resources& r, std::vector<Step>& out) {
  if (r.memory_limit) add(out, "memory", "memory.max", v2_number(*r.memory_limit));
  if (auto swap = v2_swap(r)) {
    bool nothing = *swap == "max" || *swap == "0";
    add(out, "memory", "memory.swap.max", *swap, nothing);
  }
  if (r.memory_reservation) add(out, "memory", "memory.low", v2_number(*r.memory_reservation));
}

void plan_v2_cpu(const Resources& r, std::vector<Step>& out) {
  if (r.cpu_shares) add(out, "cpu", "cpu.weight", std::to_string(shares_to_weight(*r.cpu_shares)));
  if (r.cpu_quota || r.cpu_period) {
    // As runc: an absent or unlimited quota is "max"; an absent period keeps
    // the kernel's.
    std::string value = r.cpu_quota && *r.cpu_quota > 0 ? std::to_string(*r.cpu_quota) : "max";
    if (r.cpu_period) value += fmt::format(" {}", *r.cpu_period);
    add(out, "cpu", "cpu.max", value);
  }
}

}  // namespace

bool Resources::empty() const {
  return !memory_limit && !memory_reservation && !memory_swap && !cpu_shares && !cpu_quota &&
         !cpu_period && !cpu_rt_runtime && !cpu_rt_period && !cpuset_cpus && !cpuset_mems &&
         !pids_limit && unified.empty();
}

Result<Resources> parse_resources(std::string_view json, std::string_view origin) {
  std::string path(origin);
  simdjson::dom::parser parser;
  element root = REAPER_TRY_CTX(parse_json(parser, json), "{}", path);
  object obj;
  if (root.get_object().get(obj) != simdjson::SUCCESS)
    return make_error("{}: expected object", path);
  return read_resources(obj, path);
}

uint64_t shares_to_weight(uint64_t shares) {
  if (shares == 0) return 0;
  if (shares < 2) shares = 2;
  if (shares > 262144) shares = 262144;
  return 1 + ((shares - 2) * 9999) / 262142;
}

Result<std::vector<Step>> plan(const Resources& r, Version v) {
  std::vector<Step> out;
  if (v == Version::v1) {
    if (!r.unified.empty())
      return make_error("resources.unified: cgroup v2 files cannot be set on a cgroup v1 node");
    plan_v1_memory(r, out);
    plan_v1_cpu(r, out);
  } else {
    if (r.cpu_rt_runtime || r.cpu_rt_period)
      return make_error(
          "resources.cpu.realtimeRuntime/realtimePeriod: cgroup v2 has no real-time bandwidth "
          "files");
    plan_v2_memory(r, out);
    plan_v2_cpu(r, out);
  }
  if (r.cpuset_cpus) add(out, "cpuset", "cpuset.cpus", *r.cpuset_cpus);
  if (r.cpuset_mems) add(out, "cpuset", "cpuset.mems", *r.cpuset_mems);
  if (r.pids_limit)
    add(out, "pids", "pids.max", *r.pids_limit > 0 ? std::to_string(*r.pids_limit) : "max");
  for (const auto& [file, value] : r.unified) {
    auto dot = file.find('.');
    add(out, file.substr(0, dot), file, value);
  }
  return out;
}

}  // namespace reaper::cgroup
