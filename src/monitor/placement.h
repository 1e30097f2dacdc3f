#pragma once
// The monitor's side of resources: which cgroup its workload goes into, and
// the end of that cgroup.
//
// The init process's monitor creates the container's cgroup (and owns it);
// an exec's monitor joins the container's existing one, read from
// cgroup.json. Either way the workload child moves itself in as the first
// thing after the fork (monitor/child.cc), while it is still root and
// single-threaded, long before "created" is reported: nothing of the
// workload runs outside the cgroup, and no pid is written by anyone else,
// so a moving or reused pid is never an issue. A thread moving itself is
// also the cheap migration on v1 (Cgroup::join_self). The monitor itself
// stays outside: an OOM kill, the pids limit or cgroup.kill must not take
// the process that records the exit.

#include "cgroup/cgroup.h"
#include "common/config.h"
#include "common/error.h"
#include "monitor/options.h"
#include "oci/spec.h"

namespace reaper::monitor {

// The cgroup for this monitor's workload: created (init process) or opened
// (exec); an invalid Cgroup when there is none (REAPER_CGROUPS=disabled, no
// linux.cgroupsPath, a pod sandbox). `container_dir` is <root>/<id>, where
// cgroup.json lives. Before the overlay view is entered: /sys/fs/cgroup and
// /proc/self/mountinfo are read in the host's mount namespace.
Result<cgroup::Cgroup> prepare_cgroup(const NodeConfig& config, const Options& o,
                                      const oci::Spec& spec, int container_dir);

// When the init process has ended: SIGKILL to everything left in the
// cgroup (execs and escaped processes too) and wait for it to exit, record
// the final OOM kill count, remove the cgroup and record that.
Status end_cgroup(cgroup::Cgroup& cg, int container_dir);

}  // namespace reaper::monitor
