#pragma once
// The monitor's side of resources: which cgroup its workload goes into, and
// the end of that cgroup.
//
// A container's cgroup is created by the runtime core (CLI or shim) while
// the init process's monitor starts up, and handed to that monitor
// (cgroup/handover.h), which owns it from its `ok` on and removes it when the
// container ends; an exec's monitor joins the container's existing one, read
// from cgroup.json. Either way the workload child moves itself in as the
// first thing after the fork (monitor/child.cc), while it is still root and
// single-threaded, long before "created" is reported: nothing of the
// workload runs outside the cgroup, and no pid is written by anyone else,
// so a moving or reused pid is never an issue. A thread moving itself is
// also the cheap migration on v1 (Cgroup::join_self). The monitor itself
// stays outside: an OOM kill, the pids limit or cgroup.kill must not take
// the process that records the exit.

#include "cgroup/cgroup.h"
#include "common/error.h"
#include "common/fd.h"

namespace reaper::monitor {

// The cgroup an exec's workload joins, opened from cgroup.json in
// `container_dir` (<root>/<id>); an invalid Cgroup when the container has
// none. Whatever REAPER_CGROUPS says now: the container got its cgroup (or
// none) when it was created, and its exec processes go where it is. In the
// host's mount namespace, before the overlay view is entered: the record's
// paths are the host's.
Result<cgroup::Cgroup> open_exec_cgroup(int container_dir);

// The init process's cgroup, from the caller on `channel` (--cgroup-fd),
// which is closed after: blocks until the cgroup was created and sent, or
// the caller gave up. Works in any mount namespace: it comes as open fds.
Result<cgroup::Cgroup> receive_container_cgroup(UniqueFd& channel);

// When the init process has ended and its processes were killed: the
// final OOM kill count read, the cgroup removed (whatever joined or still
// exits in it is killed and waited for first, if rmdir finds it busy), and
// with `record` both written to cgroup.json (the count before the removal,
// for OOM watchers that find the cgroup gone). Without it (--remove: the
// state is deleted right after, and nothing watches a CLI's `run` for OOM
// kills) neither; should the state stay after all, `delete` finds the
// cgroup gone.
Status end_cgroup(cgroup::Cgroup& cg, int container_dir, bool record);

}  // namespace reaper::monitor
