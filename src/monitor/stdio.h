#pragma once
// The workload's stdio, set up by its monitor.
//
// Paths (from the shim or the CLI) may name a FIFO, a regular file or
// /dev/null; an empty path means /dev/null. Nothing else is accepted (a
// device or a directory is refused). For FIFOs the monitor keeps an extra
// handle on each, for as long as the workload runs:
//  - a read handle on stdout/stderr FIFOs, so the workload never gets EPIPE
//    when the reader (containerd) goes away;
//  - a write handle on the stdin FIFO, so the workload does not read EOF
//    before the client has written anything; `close-stdin` drops it.
// With a terminal, the workload gets the pty slave on 0-2 and the master is
// either sent over the console socket (runc's convention) or relayed by the
// monitor between the stdin source and the stdout destination.

#include <optional>
#include <string>

#include "common/error.h"
#include "common/fd.h"
#include "monitor/options.h"
#include "oci/spec.h"

namespace reaper::monitor {

struct Stdio {
  UniqueFd in, out, err;  // what the workload gets as 0, 1, 2
  UniqueFd stdin_hold, stdout_hold, stderr_hold;
  UniqueFd master;     // pty master, kept only when the monitor relays
  UniqueFd relay_in;   // terminal input source (read), may be invalid
  UniqueFd relay_out;  // terminal output destination (write)
};

Result<Stdio> setup_stdio(const Options& o, const oci::Process& p);

// Moves fds 0-2 of the monitor itself to /dev/null (after the workload's
// copies were taken), so it holds none of its caller's terminals or pipes.
Status detach_own_stdio();

}  // namespace reaper::monitor
