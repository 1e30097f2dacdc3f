#pragma once
// The monitor's side of resources: which cgroup its workload goes into, and
// the end of that cgroup.
//
// The init process's monitor creates the container's cgroup (and owns it);
// an exec's monitor joins the container's existing one, read from
// cgroup.json. Either way the monitor writes the workload's pid into
// cgroup.procs while the workload is blocked on the start pipe, before
// "created" is reported: the monitor is root and keeps its privileges (the
// workload may already have dropped them), the pid cannot be reused (it is
// the monitor's unreaped child), and nothing of the workload runs outside
// the cgroup. The monitor itself stays outside: an OOM kill, the pids limit
// or cgroup.kill must not take the process that records the exit.

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
