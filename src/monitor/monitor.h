#pragma once
// reaper-monitor: the parent of exactly one workload process (init or exec).
//
// Fork-first: the runtime core fork+execs the monitor, which becomes a
// session leader and child subreaper, sets up stdio (and the overlay view),
// forks the workload, writes the state record and reports `ok <pid>` on the
// sync fd. Then it runs a single-threaded epoll loop: signals arrive on a
// signalfd, requests on the control socket, the exec result on the child's
// report pipe, terminal bytes on the pty. When the workload exits it records
// {status, time} atomically in exit.json, ends every remaining descendant,
// drains and closes stdio, and exits. Nothing sleeps or polls.

#include "personalities.h"

namespace reaper::monitor {

int run(Args args);

}  // namespace reaper::monitor
