// reaper-runtime events: what happens to a container's resources, as JSON
// lines on stdout (runc's `events` format):
//
//   {"type":"stats","id":"c1","data":{"cpu":...,"memory":...,"pids":...}}
//   {"type":"oom","id":"c1"}
//
// --stats prints one stats event and exits. Otherwise a stats event is
// printed at once (so a reader knows the OOM watch is in place), then every
// --interval (default 5s; 0: only the first), and an oom event for each OOM
// kill; the command ends when the container does. It waits on fds only:
// the OOM watch, a timerfd and the monitor's pidfd.
#include <poll.h>
#include <sys/timerfd.h>

#include <charconv>
#include <cstdio>

#include "common/json.h"
#include "runtime/cli.h"

namespace reaper::cli {

namespace {

constexpr std::string_view usage_text = "events [--stats] [--interval DURATION] ID";

// "5s", "500ms", "2m", "1h" or plain seconds.
Result<uint64_t> parse_interval_ms(std::string_view text) {
  uint64_t n = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  std::string_view unit(p, static_cast<size_t>(text.data() + text.size() - p));
  if (ec != std::errc() || text.empty())
    return make_error("--interval: `{}` is not a duration (like 5s or 500ms)", text);
  if (unit == "ms") return n;
  if (unit == "s" || unit.empty()) return n * 1000;
  if (unit == "m") return n * 60 * 1000;
  if (unit == "h") return n * 3600 * 1000;
  return make_error("--interval: `{}` is not a duration (like 5s or 500ms)", text);
}

void write_memory_entry(JsonWriter& w, std::string_view key, uint64_t usage, uint64_t max,
                        uint64_t limit, uint64_t failcnt) {
  w.key(key).begin_object();
  w.key("usage").value(usage).key("max").value(max).key("limit").value(limit);
  w.key("failcnt").value(failcnt).end_object();
}

std::string stats_event(const std::string& id, const cgroup::Stats& s) {
  JsonWriter w;
  w.begin_object().key("type").value("stats").key("id").value(id).key("data").begin_object();
  w.key("cpu").begin_object().key("usage").begin_object();
  w.key("total").value(s.cpu_usage_ns).key("percpu").begin_array();
  for (uint64_t v : s.cpu_per_cpu_ns) w.value(v);
  w.end_array().key("kernel").value(s.cpu_kernel_ns).key("user").value(s.cpu_user_ns);
  w.end_object().key("throttling").begin_object();
  w.key("periods").value(s.cpu_periods).key("throttledPeriods").value(s.cpu_throttled_periods);
  w.key("throttledTime").value(s.cpu_throttled_ns).end_object().end_object();

  w.key("memory").begin_object();
  auto cache = s.memory_stat.find(s.version == cgroup::Version::v1 ? "total_cache" : "file");
  w.key("cache").value(cache == s.memory_stat.end() ? 0 : cache->second);
  write_memory_entry(w, "usage", s.memory_usage, s.memory_max_usage, s.memory_limit,
                     s.memory_failcnt);
  write_memory_entry(w, "swap", s.swap_usage, s.swap_max_usage, s.swap_limit, s.swap_failcnt);
  w.key("raw").begin_object();
  for (const auto& [k, v] : s.memory_stat) w.key(k).value(v);
  w.end_object().end_object();

  w.key("pids").begin_object().key("current").value(s.pids_current);
  w.key("limit").value(s.pids_limit).end_object();
  // reaper's additions: where the numbers come from, kubelet's working set, OOM kills.
  w.key("cgroup").value(s.from_proc ? std::string_view("none") : cgroup::to_string(s.version));
  w.key("workingSet").value(s.working_set()).key("oomKills").value(s.oom_kills);
  w.end_object().end_object();
  return w.str();
}

std::string oom_event(const std::string& id) {
  JsonWriter w;
  w.begin_object().key("type").value("oom").key("id").value(id).end_object();
  return w.str();
}

void emit(const std::string& line) {
  fmt::print("{}\n", line);
  std::fflush(stdout);
}

Status print_stats(const runtime::Context& ctx, const std::string& id) {
  emit(stats_event(id, REAPER_TRY(runtime::read_stats(ctx, id))));
  return {};
}

Result<UniqueFd> make_timer(uint64_t interval_ms) {
  if (interval_ms == 0) return UniqueFd();
  UniqueFd fd(::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK));
  if (!fd) return sys_error("timerfd_create");
  itimerspec spec{};
  spec.it_interval.tv_sec = static_cast<time_t>(interval_ms / 1000);
  spec.it_interval.tv_nsec = static_cast<long>((interval_ms % 1000) * 1000000);
  spec.it_value = spec.it_interval;
  if (::timerfd_settime(fd.get(), 0, &spec, nullptr) < 0) return sys_error("timerfd_settime");
  return fd;
}

// Until the container's monitor exits.
Status stream(const runtime::Context& ctx, const std::string& id, uint64_t interval_ms) {
  auto watch = REAPER_TRY(runtime::watch_oom(ctx, id));
  auto pidfd = REAPER_TRY(runtime::monitor_pidfd(ctx, id));
  auto timer = REAPER_TRY(make_timer(interval_ms));
  REAPER_TRY(print_stats(ctx, id));
  pollfd fds[3] = {{watch.fd(), POLLIN, 0}, {timer.get(), POLLIN, 0}, {pidfd.get(), POLLIN, 0}};
  while (pidfd) {
    if (::poll(fds, 3, -1) < 0) {
      if (errno == EINTR) continue;
      return sys_error("poll");
    }
    if ((fds[0].revents & POLLIN) != 0 && watch.consume()) emit(oom_event(id));
    if ((fds[1].revents & POLLIN) != 0) {
      uint64_t expirations = 0;
      (void)::read(timer.get(), &expirations, sizeof expirations);
      (void)print_stats(ctx, id);  // the container may be ending: not an error
    }
    if ((fds[2].revents & POLLIN) != 0) break;
  }
  // A kill that came with the end (the cgroup's final count).
  if (watch.valid() && watch.consume()) emit(oom_event(id));
  return {};
}

}  // namespace

int cmd_events(const Invocation& inv) {
  auto flags = Flags::parse(inv.args, {{"stats"}, {"interval", true}});
  if (!flags) return fail(inv, flags.error());
  if (auto st = expect_positional(*flags, 1, usage_text); !st) return fail(inv, st.error());
  auto interval = parse_interval_ms(flags->get("interval", "5s"));
  if (!interval) return fail(inv, interval.error());
  auto ctx = context(inv);
  if (!ctx) return fail(inv, ctx.error());
  const std::string& id = flags->positional[0];
  auto st = flags->has("stats") ? print_stats(*ctx, id) : stream(*ctx, id, *interval);
  if (!st) return fail(inv, st.error());
  return 0;
}

}  // namespace reaper::cli
