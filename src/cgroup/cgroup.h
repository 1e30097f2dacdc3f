#pragma once
// A container's cgroup: one directory per hierarchy on v1, one on v2.
//
// Lifecycle (docs/resources.md):
//   create   the runtime core (CLI or shim) while the init process's
//            monitor starts up, then handed to it (handover.h): mkdir in
//            every hierarchy (parents as needed, v1 cpuset parents
//            initialised, v2 controllers enabled in the ancestors), then
//            linux.resources applied; any error removes what was created
//   join     each workload child moves itself into every directory first
//            thing after the fork, before its identity is applied and long
//            before it is released, so nothing of it runs outside the
//            cgroup (join_self: why the child and not the monitor)
//   kill_all when the container ends: v2 cgroup.kill; v1 freeze, SIGKILL
//            every pid in cgroup.procs, thaw, until a round finds no new pid
//   remove   rmdir of the leaf directories only, never of a parent (those
//            are kubelet's, or shared with other containers)
//
// The directories are held open by fd, so a monitor that entered an overlay
// view still reaches them.

#include <sys/types.h>

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "cgroup/files.h"
#include "cgroup/layout.h"
#include "cgroup/path.h"
#include "cgroup/record.h"
#include "cgroup/resources.h"
#include "common/error.h"
#include "common/fd.h"

namespace reaper::cgroup {

class Cgroup {
 public:
  Cgroup() = default;
  Cgroup(Cgroup&& other) noexcept;
  Cgroup& operator=(Cgroup&& other) noexcept;
  Cgroup(const Cgroup&) = delete;
  Cgroup& operator=(const Cgroup&) = delete;
  // A cgroup this object created and did not remove is removed (best
  // effort): a failed setup leaves nothing behind.
  ~Cgroup();

  // Creates the cgroup `path` in every hierarchy of `layout` and applies
  // `res`. EEXIST when the leaf exists already: it is someone else's.
  static Result<Cgroup> create(const Layout& layout, const CgroupPath& path, const Resources& res);
  // Opens the cgroup a record describes; it is not removed on destruction.
  static Result<Cgroup> open(const Record& r);
  // The cgroup a record describes, from its directories already open:
  // for each of r.dirs the directory and its parent, in that order
  // (handover_fds()). Not removed on destruction either.
  static Result<Cgroup> adopt(const Record& r, std::vector<UniqueFd> fds);
  // The fds adopt() takes, still owned by this object.
  [[nodiscard]] std::vector<int> handover_fds() const;
  // A created cgroup that is someone else's to remove from now on: it stays
  // when this object goes.
  void disown() { owned_ = false; }

  [[nodiscard]] bool valid() const { return !entries_.empty(); }
  [[nodiscard]] Version version() const { return version_; }
  [[nodiscard]] Record record() const;
  // The directory holding `controller` (v2: the one directory); nullptr
  // when that v1 controller is not mounted.
  [[nodiscard]] const CgroupDir* dir_for(std::string_view controller) const;

  // Moves the calling process, which must be single-threaded (a freshly
  // forked child), into every directory. On v1 it writes "0" to `tasks`: a
  // thread moving itself is the one migration the kernel does without
  // write-locking the global threadgroup rwsem, whose write side waits for
  // an RCU grace period (10-20 ms on a small VM, every container start).
  // Moving the only thread moves the process. On v2 (no `tasks`) it writes
  // "0" to cgroup.procs.
  [[nodiscard]] Status join_self() const;
  // The processes in the cgroup now (cgroup.procs of every directory).
  [[nodiscard]] Result<std::vector<pid_t>> pids() const;
  [[nodiscard]] Status apply(const Resources& res) const;
  // SIGKILL to every process in the cgroup; with `wait`, returns once they
  // have all exited (pidfds), so that remove() finds the cgroup empty.
  [[nodiscard]] Status kill_all(bool wait) const;
  // How many processes the OOM killer ended in this cgroup so far.
  [[nodiscard]] Result<uint64_t> oom_kills() const;
  // rmdir of every leaf; the first error (EBUSY: processes remain) is
  // returned after trying them all.
  [[nodiscard]] Status remove();

 private:
  struct Entry {
    std::vector<std::string> controllers;
    CgroupDir dir;
    CgroupDir parent;
    std::string leaf;
  };

  static Cgroup from_dirs(const Record& r, std::vector<CgroupDir> dirs);
  Status create_in(const Hierarchy& h, const CgroupPath& path);
  Status write_step(const Step& step) const;
  Result<size_t> collect(std::map<pid_t, UniqueFd>& victims, bool signal) const;
  Status kill_rounds(std::map<pid_t, UniqueFd>& victims) const;
  Status write_one(const Write& w) const;
  void remove_quietly() noexcept;

  Version version_ = Version::v2;
  std::function<void(const std::string&)> after_mkdir_, before_rmdir_;  // Layout's test seam
  std::string cgroups_path_;
  std::vector<Entry> entries_;
  bool owned_ = false;
  bool removed_ = false;
};

// Convenience for callers holding a record: SIGKILL everything left in the
// cgroup and remove it (used when the monitor that owned it is gone).
Status kill_and_remove(const Record& r);

}  // namespace reaper::cgroup
