#pragma once
// Entry points of the personalities. Each takes the arguments after its own
// name (argv[0] is the personality's name) and returns the process exit code.

#include <span>

namespace reaper {

using Args = std::span<char* const>;

int runtime_main(Args args);  // reaper-runtime: the OCI-runtime-style CLI
int monitor_main(Args args);  // reaper-monitor: the parent of one workload
int shim_main(Args args);     // containerd-shim-reaper-v2

}  // namespace reaper
