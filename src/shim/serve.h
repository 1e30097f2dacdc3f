#pragma once
// Server mode: the long-lived shim process that `start` spawned, serving the
// task API on the listening socket it got as fd 3 until Shutdown (with no
// container left), SIGTERM or SIGINT.

#include "shim/flags.h"

namespace reaper::shim {

// Runs the server; returns the process exit code. Errors are logged to the
// bundle's log FIFO (stderr).
int shim_serve(const ShimFlags& flags);

}  // namespace reaper::shim
