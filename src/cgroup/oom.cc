#include "cgroup/oom.h"

#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>

namespace reaper::cgroup {

namespace {

const RecordDir* memory_dir(const Record& r) {
  for (const auto& d : r.dirs) {
    if (r.version == Version::v2 ||
        std::find(d.controllers.begin(), d.controllers.end(), "memory") != d.controllers.end())
      return &d;
  }
  return nullptr;
}

std::optional<uint64_t> oom_kill_of(std::string_view text) {
  auto keyed = parse_keyed(text);
  auto it = keyed.find("oom_kill");
  if (it == keyed.end()) return std::nullopt;
  return it->second;
}

}  // namespace

Result<OomWatch> OomWatch::open(const Record& r, UniqueFd state_dir) {
  const RecordDir* d = memory_dir(r);
  if (d == nullptr) return make_error("the container's cgroup has no memory controller");
  OomWatch w;
  w.version_ = r.version;
  w.state_dir_ = std::move(state_dir);
  w.memory_ = REAPER_TRY(CgroupDir::open(d->path));
  if (r.version == Version::v1) {
    w.fd_.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!w.fd_) return sys_error("eventfd");
    w.oom_control_ = REAPER_TRY(w.memory_.open_file("memory.oom_control", O_RDONLY));
    std::string reg = fmt::format("{} {}", w.fd_.get(), w.oom_control_.get());
    REAPER_TRY_CTX(w.memory_.write("cgroup.event_control", reg), "register for OOM events");
  } else {
    w.fd_.reset(::inotify_init1(IN_CLOEXEC | IN_NONBLOCK));
    if (!w.fd_) return sys_error("inotify_init1");
    std::string file = fmt::format("/proc/self/fd/{}/memory.events", w.memory_.fd());
    if (::inotify_add_watch(w.fd_.get(), file.c_str(), IN_MODIFY) < 0)
      return sys_error("watch `{}/memory.events`", w.memory_.path());
  }
  bool live = false;
  w.seen_ = w.current_count(live).value_or(0);
  return w;
}

// How many notifications arrived (inotify: events of any kind).
uint64_t OomWatch::drain() {
  if (version_ == Version::v1) {
    uint64_t n = 0;
    if (::read(fd_.get(), &n, sizeof n) != sizeof n) return 0;
    return n;
  }
  uint64_t events = 0;
  alignas(inotify_event) char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd_.get(), buf, sizeof buf);
    if (n <= 0) return events;
    for (ssize_t off = 0; off < n;) {
      const auto* ev = reinterpret_cast<const inotify_event*>(buf + off);
      ++events;
      off += static_cast<ssize_t>(sizeof(inotify_event) + ev->len);
    }
  }
}

// The cgroup's counter while it exists (`live`), else the monitor's final count.
std::optional<uint64_t> OomWatch::current_count(bool& live) const {
  auto text = memory_.read(version_ == Version::v1 ? "memory.oom_control" : "memory.events");
  live = text.ok();
  if (live) return oom_kill_of(*text);
  if (!state_dir_) return std::nullopt;
  auto rec = read_record(state_dir_.get());
  if (!rec.ok() || !*rec) return std::nullopt;
  return (*rec)->final_oom_kills;
}

bool OomWatch::consume() {
  if (!fd_) return false;
  uint64_t notified = drain();
  bool live = false;
  auto count = current_count(live);
  if (count && *count > seen_) {
    seen_ = *count;
    return true;
  }
  // v1 notifies before the victim is chosen: report the kill the counter
  // does not show yet, once (further notifications of the same OOM, while
  // the counter lags behind what was reported, are not new kills).
  if (version_ == Version::v1 && notified > 0 && live && count && *count == seen_) {
    seen_ = *count + 1;
    return true;
  }
  return false;
}

}  // namespace reaper::cgroup
