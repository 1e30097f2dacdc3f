#include "cgroup/cgroup.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <utility>

#include "common/syscalls.h"

namespace reaper::cgroup {

namespace {

// Controllers enabled for children in the v2 ancestors, where available.
constexpr std::string_view v2_controllers[] = {"cpu", "cpuset", "io", "memory", "pids"};

// A rmdir'ed or never-populated cgroup has an empty cpuset in v1, and a
// process cannot join a cgroup without CPUs or memory nodes (ENOSPC): a
// directory reaper creates gets its parent's.
Status init_cpuset(const CgroupDir& parent, const CgroupDir& dir) {
  for (std::string_view file : {"cpuset.cpus", "cpuset.mems"}) {
    std::string own = REAPER_TRY(dir.read(file));
    if (!trim(own).empty()) continue;
    std::string inherited = REAPER_TRY(parent.read(file));
    REAPER_TRY(dir.write(file, trim(inherited)));
  }
  return {};
}

// Makes the controllers reaper uses available to the children of `dir`.
// Failures are not errors here: a controller that could not be enabled
// shows up as a missing file when a limit needs it, with that file's name.
void enable_v2_controllers(const CgroupDir& dir) {
  auto available = dir.read("cgroup.controllers");
  auto enabled = dir.read("cgroup.subtree_control");
  if (!available.ok() || !enabled.ok()) return;
  auto avail = split(trim(*available), ' ');
  auto on = split(trim(*enabled), ' ');
  std::string want;
  for (std::string_view c : v2_controllers) {
    bool can = std::find(avail.begin(), avail.end(), c) != avail.end();
    bool is_on = std::find(on.begin(), on.end(), c) != on.end();
    if (can && !is_on) want += fmt::format("{}+{}", want.empty() ? "" : " ", c);
  }
  if (!want.empty()) (void)dir.write("cgroup.subtree_control", want);
}

std::pair<std::string, std::string> split_leaf(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == 0) return {"/", path.substr(1)};
  return {path.substr(0, slash), path.substr(slash + 1)};
}

Status mkdir_at(const CgroupDir& parent, const std::string& name, bool& created) {
  created = ::mkdirat(parent.fd(), name.c_str(), 0755) == 0;
  if (created || errno == EEXIST) return {};
  return sys_error("mkdir `{}/{}`", parent.path(), name);
}

}  // namespace

Cgroup::Cgroup(Cgroup&& other) noexcept
    : version_(other.version_),
      after_mkdir_(std::move(other.after_mkdir_)),
      before_rmdir_(std::move(other.before_rmdir_)),
      cgroups_path_(std::move(other.cgroups_path_)),
      entries_(std::move(other.entries_)),
      owned_(std::exchange(other.owned_, false)),
      removed_(other.removed_) {
  other.entries_.clear();
}

Cgroup& Cgroup::operator=(Cgroup&& other) noexcept {
  if (this != &other) {
    remove_quietly();
    version_ = other.version_;
    cgroups_path_ = std::move(other.cgroups_path_);
    after_mkdir_ = std::move(other.after_mkdir_);
    before_rmdir_ = std::move(other.before_rmdir_);
    entries_ = std::move(other.entries_);
    owned_ = std::exchange(other.owned_, false);
    removed_ = other.removed_;
    other.entries_.clear();
  }
  return *this;
}

Cgroup::~Cgroup() {
  remove_quietly();
}

void Cgroup::remove_quietly() noexcept {
  if (owned_ && !removed_ && !entries_.empty()) (void)remove();
}

// mkdir -p below the mount, the leaf exclusively.
Status Cgroup::create_in(const Hierarchy& h, const CgroupPath& path) {
  std::string dir = REAPER_TRY(h.dir_of(resolve(path, h.own)));
  std::vector<std::string_view> parts;
  for (std::string_view p : split(std::string_view(dir).substr(h.mount.size()), '/'))
    if (!p.empty()) parts.push_back(p);
  if (parts.empty()) return make_error("cgroup `{}` is the root of `{}`", path.path, h.mount);
  bool cpuset = version_ == Version::v1 && h.has("cpuset");
  CgroupDir current = REAPER_TRY(CgroupDir::open(h.mount));
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    if (version_ == Version::v2) enable_v2_controllers(current);
    std::string name(parts[i]);
    bool created = false;
    REAPER_TRY(mkdir_at(current, name, created));
    CgroupDir next = REAPER_TRY(current.open_sub(name));
    if (created && after_mkdir_) after_mkdir_(next.path());
    if (created && cpuset) REAPER_TRY(init_cpuset(current, next));
    current = std::move(next);
  }
  if (version_ == Version::v2) enable_v2_controllers(current);
  std::string leaf(parts.back());
  if (::mkdirat(current.fd(), leaf.c_str(), 0755) < 0) {
    if (errno == EEXIST)
      return errno_error(EEXIST, "cgroup `{}` already exists (in use by another container?)", dir);
    return sys_error("mkdir `{}`", dir);
  }
  // Owned from here: an error below removes it with the rest.
  auto sub = current.open_sub(leaf);
  if (!sub.ok()) {
    ::unlinkat(current.fd(), leaf.c_str(), AT_REMOVEDIR);
    return std::move(sub).error();
  }
  if (after_mkdir_) after_mkdir_(sub->path());
  entries_.push_back(Entry{h.controllers, std::move(*sub), std::move(current), leaf});
  if (cpuset) REAPER_TRY(init_cpuset(entries_.back().parent, entries_.back().dir));
  return {};
}

Result<Cgroup> Cgroup::create(const Layout& layout, const CgroupPath& path, const Resources& res) {
  Cgroup cg;
  cg.version_ = layout.version;
  cg.cgroups_path_ = path.path;
  cg.after_mkdir_ = layout.after_mkdir;
  cg.before_rmdir_ = layout.before_rmdir;
  cg.owned_ = true;
  // Refused before anything exists: values the plan cannot express.
  REAPER_TRY(plan(res, layout.version));
  for (const auto& h : layout.hierarchies) REAPER_TRY(cg.create_in(h, path));
  REAPER_TRY(cg.apply(res));
  return cg;
}

// `dirs`: each directory of r.dirs, then its parent, in that order.
Cgroup Cgroup::from_dirs(const Record& r, std::vector<CgroupDir> dirs) {
  Cgroup cg;
  cg.version_ = r.version;
  cg.cgroups_path_ = r.cgroups_path;
  for (size_t i = 0; i < r.dirs.size(); ++i) {
    cg.entries_.push_back(Entry{r.dirs[i].controllers, std::move(dirs[2 * i]),
                                std::move(dirs[2 * i + 1]), split_leaf(r.dirs[i].path).second});
  }
  return cg;
}

Result<Cgroup> Cgroup::open(const Record& r) {
  std::vector<CgroupDir> dirs;
  for (const auto& d : r.dirs) {
    // Each in a statement of its own: a REAPER_TRY returning from inside a
    // larger expression can skip destructors of what that expression built
    // (GCC statement expressions; the ASan e2e run once caught such a leak).
    auto dir = REAPER_TRY(CgroupDir::open(d.path));
    auto up = REAPER_TRY(CgroupDir::open(split_leaf(d.path).first));
    dirs.push_back(std::move(dir));
    dirs.push_back(std::move(up));
  }
  return from_dirs(r, std::move(dirs));
}

Result<Cgroup> Cgroup::adopt(const Record& r, std::vector<UniqueFd> fds) {
  if (fds.size() != 2 * r.dirs.size())
    return make_error("{} fds for the {} directories of cgroup `{}` (two each)", fds.size(),
                      r.dirs.size(), r.cgroups_path);
  std::vector<CgroupDir> dirs;
  for (size_t i = 0; i < r.dirs.size(); ++i) {
    dirs.push_back(CgroupDir::from_fd(r.dirs[i].path, std::move(fds[2 * i])));
    dirs.push_back(CgroupDir::from_fd(split_leaf(r.dirs[i].path).first, std::move(fds[2 * i + 1])));
  }
  return from_dirs(r, std::move(dirs));
}

std::vector<int> Cgroup::handover_fds() const {
  std::vector<int> out;
  for (const auto& e : entries_) {
    out.push_back(e.dir.fd());
    out.push_back(e.parent.fd());
  }
  return out;
}

Record Cgroup::record() const {
  Record r;
  r.version = version_;
  r.cgroups_path = cgroups_path_;
  for (const auto& e : entries_) r.dirs.push_back({e.dir.path(), e.controllers});
  return r;
}

const CgroupDir* Cgroup::dir_for(std::string_view controller) const {
  for (const auto& e : entries_) {
    if (version_ == Version::v2 ||
        std::find(e.controllers.begin(), e.controllers.end(), controller) != e.controllers.end())
      return &e.dir;
  }
  return nullptr;
}

Status Cgroup::join_self() const {
  const char* file = version_ == Version::v2 ? "cgroup.procs" : "tasks";
  for (const auto& e : entries_) REAPER_TRY_CTX(e.dir.write(file, "0"), "join");
  return {};
}

Result<std::vector<pid_t>> Cgroup::pids() const {
  std::vector<pid_t> out;
  for (const auto& e : entries_) {
    for (pid_t p : parse_pids(REAPER_TRY(e.dir.read("cgroup.procs"))))
      if (std::find(out.begin(), out.end(), p) == out.end()) out.push_back(p);
  }
  return out;
}

Status Cgroup::write_one(const Write& w) const {
  const CgroupDir* dir = dir_for(w.controller);
  if (dir == nullptr)
    return make_error("{}: the `{}` controller has no cgroup v1 hierarchy mounted", w.file,
                      w.controller);
  if (w.optional && !dir->exists(w.file)) return {};
  auto st = dir->write(w.file, w.value);
  if (!st.ok() && st.error().err() == ENOENT && version_ == Version::v2)
    return std::move(st).error().wrap(fmt::format(
        "the `{}` controller is not enabled for `{}` (cgroup.subtree_control of its parent)",
        w.controller, dir->path()));
  return st;
}

// The kernel checks each value against the current others (memory against
// memory+swap, quota against period): if the first write is refused with
// EINVAL, the other order is the one that works.
Status Cgroup::write_step(const Step& step) const {
  for (size_t i = 0; i < step.writes.size(); ++i) {
    auto st = write_one(step.writes[i]);
    if (st.ok()) continue;
    if (i != 0 || step.writes.size() < 2 || st.error().err() != EINVAL) return st;
    for (auto it = step.writes.rbegin(); it != step.writes.rend(); ++it) REAPER_TRY(write_one(*it));
    return {};
  }
  return {};
}

Status Cgroup::apply(const Resources& res) const {
  for (const auto& step : REAPER_TRY(plan(res, version_))) REAPER_TRY(write_step(step));
  return {};
}

// Every pid listed in cgroup.procs that is not in `victims` yet gets a
// pidfd (and with `signal` a SIGKILL through it); returns how many were new.
Result<size_t> Cgroup::collect(std::map<pid_t, UniqueFd>& victims, bool signal) const {
  size_t added = 0;
  for (const auto& e : entries_) {
    auto text = e.dir.read("cgroup.procs");
    // A directory removed already (a remove() that got only some of them)
    // holds nobody.
    if (!text.ok() && text.error().err() == ENOENT) continue;
    if (!text.ok()) return std::move(text).error();
    for (pid_t p : parse_pids(*text)) {
      if (victims.count(p) != 0) continue;
      UniqueFd fd(sys::pidfd_open(p));
      if (!fd) continue;  // exited meanwhile
      if (signal) (void)sys::pidfd_send_signal(fd.get(), SIGKILL);
      victims.emplace(p, std::move(fd));
      ++added;
    }
  }
  return added;
}

Status Cgroup::kill_all(bool wait) const {
  if (entries_.empty()) return {};
  std::map<pid_t, UniqueFd> victims;
  if (version_ == Version::v2 && entries_.front().dir.exists("cgroup.kill")) {
    // Kills everything, including processes forked while it runs.
    REAPER_TRY(entries_.front().dir.write("cgroup.kill", "1"));
    if (wait) REAPER_TRY(collect(victims, false));
  } else {
    REAPER_TRY(kill_rounds(victims));
  }
  if (!wait) return {};
  for (auto& [pid, fd] : victims) {
    pollfd p{fd.get(), POLLIN, 0};
    while (::poll(&p, 1, -1) < 0) {
      if (errno != EINTR) return sys_error("wait for pid {} to exit", pid);
    }
  }
  return {};
}

// v1 (and v2 before Linux 5.14): a frozen process cannot fork, so the list
// read while frozen is complete up to children born during the freeze, which
// are frozen too and found by the next round. Done when a round finds
// nobody new.
Status Cgroup::kill_rounds(std::map<pid_t, UniqueFd>& victims) const {
  // An empty cgroup (the usual case once the workload was reaped and its
  // descendants killed) needs no freeze: freezing costs a stop of every
  // CPU's work on v1, twice per container end otherwise.
  auto first = collect(victims, true);
  if (!first.ok()) return std::move(first).error();
  if (*first == 0) return {};
  const CgroupDir* freezer = version_ == Version::v1 ? dir_for("freezer") : nullptr;
  for (int round = 0; round < 1000; ++round) {
    bool frozen = freezer != nullptr && freezer->write("freezer.state", "FROZEN").ok();
    auto added = collect(victims, true);
    // Always thawed: a frozen process never acts on its SIGKILL.
    if (frozen) (void)freezer->write("freezer.state", "THAWED");
    if (!added.ok()) return std::move(added).error();
    if (*added == 0) return {};
  }
  return make_error("`{}`: processes kept appearing while being killed",
                    entries_.front().dir.path());
}

Result<uint64_t> Cgroup::oom_kills() const {
  const CgroupDir* dir = dir_for("memory");
  if (dir == nullptr) return make_error("the memory controller is not mounted");
  auto text =
      REAPER_TRY(dir->read(version_ == Version::v1 ? "memory.oom_control" : "memory.events"));
  auto keyed = parse_keyed(text);
  auto it = keyed.find("oom_kill");
  return it == keyed.end() ? 0 : it->second;
}

Status Cgroup::remove() {
  Status first;
  for (auto it = entries_.rbegin(); it != entries_.rend(); ++it) {
    if (before_rmdir_) before_rmdir_(it->dir.path());
    if (::unlinkat(it->parent.fd(), it->leaf.c_str(), AT_REMOVEDIR) == 0 || errno == ENOENT)
      continue;
    auto err = sys_error("rmdir `{}`", it->dir.path());
    if (first.ok()) first = std::move(err);
  }
  if (first.ok()) removed_ = true;
  return first;
}

Status kill_and_remove(const Record& r) {
  if (r.removed) return {};
  auto cg = Cgroup::open(r);
  if (!cg.ok()) {
    // Already gone (removed by a monitor that could not record it).
    if (cg.error().err() == ENOENT) return {};
    return std::move(cg).error();
  }
  REAPER_TRY(cg->kill_all(true));
  return cg->remove();
}

}  // namespace reaper::cgroup
