#pragma once
// OomWatch: an fd that becomes readable when the kernel reports an OOM event
// for a container's cgroup, for the shim's event loop (TaskOOM) and
// `reaper-runtime events`. No polling:
//
//   v1  an eventfd registered on memory.oom_control through
//       cgroup.event_control; the kernel signals it when the cgroup hits
//       OOM, and once more when the cgroup is removed
//   v2  inotify on memory.events, which the kernel modifies when a counter
//       changes; the oom_kill counter says whether a process was killed
//
// After the fd became readable, consume() reads it and says whether a new
// OOM kill happened. The oom_kill counter is the truth on both versions;
// on v1 a notification while the cgroup still exists also counts (the
// kernel notifies just before it picks the victim, so the counter may lag;
// this is containerd's v1 behaviour too). Once the cgroup is gone the
// monitor's final count (cgroup.json) is used, so a kill right before the
// container ended is still reported.

#include <cstdint>

#include "cgroup/files.h"
#include "cgroup/record.h"
#include "common/error.h"
#include "common/fd.h"

namespace reaper::cgroup {

class OomWatch {
 public:
  // Watches nothing: fd() is -1 and consume() is always false (a container
  // without a cgroup).
  OomWatch() = default;

  // `state_dir` is the container's state directory (for cgroup.json).
  static Result<OomWatch> open(const Record& r, UniqueFd state_dir);

  [[nodiscard]] int fd() const { return fd_.get(); }
  [[nodiscard]] bool valid() const { return fd_.valid(); }
  // Reads what made fd() readable; true when a new OOM kill happened since
  // open() or the previous call. Never blocks.
  bool consume();
  // The OOM kills counted so far (including those before open()).
  [[nodiscard]] uint64_t kills() const { return seen_; }

 private:
  uint64_t drain();
  std::optional<uint64_t> current_count(bool& live) const;

  Version version_ = Version::v2;
  UniqueFd fd_;           // eventfd (v1) or inotify (v2)
  UniqueFd oom_control_;  // v1: kept open with the registration
  CgroupDir memory_;
  UniqueFd state_dir_;
  uint64_t seen_ = 0;
};

}  // namespace reaper::cgroup
