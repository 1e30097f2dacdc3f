#pragma once
// Applies an OCI process's identity to the calling process: the forked
// workload child, just before it execs. One code path for every kind of
// process (init or exec, with or without a terminal).

#include "common/error.h"
#include "oci/spec.h"

namespace reaper::process {

// Order, and why:
//  1. rlimits and oom_score_adj first: raising a hard limit or lowering the
//     score needs privileges the process may be about to give up;
//  2. the capability bounding set, while CAP_SETPCAP is still held;
//  3. setgroups (additionalGids, or none) -> setgid -> setuid, keeping
//     capabilities across the uid change only when the spec names some;
//  4. permitted/effective/inheritable, then ambient capabilities;
//  5. no_new_privs, umask, cwd (checked as the new user; created first, as
//     root, when it does not exist, as runc does).
// Without `capabilities` in the spec the kernel's rules apply: root keeps
// its set, any other uid ends with empty permitted and effective sets.
Status apply_identity(const oci::Process& p);

// execve of args[0] with exactly `env`. A name without '/' is looked up in
// env's PATH (not the caller's). Returns only on failure, with the exit code
// a shell would use: 127 not found, 126 found but not executable.
struct ExecFailure {
  int exit_code;
  Error error;
};
ExecFailure exec_process(const oci::Process& p);

}  // namespace reaper::process
