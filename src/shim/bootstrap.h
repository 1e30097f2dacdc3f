#pragma once
// The `start` and `delete` actions: short-lived runs of the shim binary by
// containerd, with the bundle as cwd.
//
// start: read stdin to EOF (a runtime-options Any on 1.6-2.2, BootstrapParams
// on 2.3+), find the group's socket, and either reuse a live shim listening
// there or start one: bind and listen here, then fork+exec ourselves in
// server mode with the listening socket as fd 3, stdio on /dev/null (an
// inherited stdout would keep containerd's read of our output from ever
// seeing EOF) and its own session. The socket is listening before `start`
// exits. The address is written to the bundle's `address` file and printed
// without a newline; nothing else is printed on success.
//
// delete: containerd's cleanup after every task delete, also when the shim
// is gone: prints a serialized DeleteResponse. It must be fast, idempotent,
// and leave other containers of the same shim alone.

#include <fcntl.h>

#include <string>
#include <string_view>

#include "common/error.h"
#include "shim.pb.h"
#include "shim/flags.h"

namespace reaper::shim {

// What `start` learned from stdin.
struct BootstrapInfo {
  bool bootstrap_params = false;  // 2.3+ BootstrapParams (else legacy options or nothing)
  std::string socket_dir;         // BootstrapParams.socket_dir, or the default
  std::string ttrpc_address;      // BootstrapParams, else $TTRPC_ADDRESS
  bool debug = false;
};

// Decodes start's stdin: BootstrapParams when it parses and its instance_id
// and namespace equal -id and -namespace; anything else is the legacy
// options Any (ignored: we have no runtime options yet).
BootstrapInfo decode_bootstrap(std::string_view input, const ShimFlags& flags,
                               std::string_view env_ttrpc);

struct StartOptions {
  int stdin_fd = 0;
  int bundle_fd = AT_FDCWD;                 // where config.json and `address` are
  std::string self_exe = "/proc/self/exe";  // what the server runs
  std::string socket_dir_override;          // tests: instead of /run/containerd/s
};

// Returns the address to print ("unix:///run/containerd/s/<hex>").
Result<std::string> shim_start(const ShimFlags& flags, const StartOptions& options);

// The `delete` action: containerd runs it when the shim of a task is gone
// (killed, crashed) or after a failed start. It ends the container -id
// (SIGKILL to what still runs, as runc's `delete --force`), waits for its
// monitors to record the exits, removes its state and returns the init
// process's real exit. Idempotent: an unknown id answers 128+SIGKILL, now.
// Touches nothing but that container.
Result<::containerd::task::v2::DeleteResponse> shim_delete(const ShimFlags& flags,
                                                           const char* const* envp);

}  // namespace reaper::shim
