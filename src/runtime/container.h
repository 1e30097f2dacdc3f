#pragma once
// The runtime core: the operations on containers and their processes that
// both the CLI (one file per verb) and the shim call in-process.
//
// A process (the init process of a container, or an exec) is owned by its
// reaper-monitor; everything that touches a live process goes through the
// monitor's control socket, so no pid is ever signalled after it was reaped.

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cgroup/oom.h"
#include "cgroup/stats.h"
#include "common/config.h"
#include "common/error.h"
#include "common/fd.h"
#include "runtime/rootfs.h"
#include "runtime/spawn_monitor.h"
#include "state/record.h"
#include "state/store.h"

namespace reaper::runtime {

// The annotation CRI puts on a pod's sandbox (pause) container: "sandbox".
inline constexpr std::string_view container_type_annotation = "io.kubernetes.cri.container-type";
// The pid reported for a simulated sandbox: it has no process of its own and
// shares the host's namespaces, as pid 1 does (the Rust original's choice).
inline constexpr pid_t sandbox_pid = 1;

struct Context {
  NodeConfig config;
  state::Store store;
  const char* const* envp = nullptr;  // passed to monitors (REAPER_* settings)
};

// Loads the node configuration and opens the state store. `root_override`
// (the CLI's --root) wins over the configuration when not empty.
Result<Context> make_context(const char* const* envp, const std::string& root_override = {});

// Where a process's stdio goes. `inherit`: the caller's fds 0-2.
struct StdioSpec {
  bool inherit = true;
  std::string in, out, err;    // FIFO / file / empty (= /dev/null)
  std::string console_socket;  // terminal master goes there (runc convention)
  // The caller stays until the process has ended (`run` and `exec` without
  // --detach): a terminal without a console socket is relayed between the
  // caller's fds 0/1 and it, and the monitor reports the end on the sync
  // pipe (Started::report).
  bool foreground = false;
  // The caller's fds 3 to 3+N-1 go to the workload as they are (the CLI's
  // --preserve-fds); they must be open.
  int preserve_fds = 0;
};

struct CreateRequest {
  std::string id;
  std::string bundle;
  StdioSpec stdio;
  std::string cli_namespace;  // --namespace: the overlay group's namespace
  // The shim's: containerd's namespace, for a spec without the Kubernetes
  // namespace annotation (CRI's containerd namespace is always k8s.io, so
  // it must never conflict with the annotation).
  std::string fallback_namespace;
  // The shim's: CreateTaskRequest.rootfs, mounted onto the spec's root
  // before the monitor starts (runtime/rootfs.h); empty for the CLI.
  std::vector<RootfsMount> rootfs;
  // create_started() only (`run` without --keep): the monitor deletes the
  // container when it has ended (monitor option --remove).
  bool remove_at_exit = false;
};

enum class ProcessStatus { created, running, stopped };
std::string_view to_string(ProcessStatus s);

struct ProcessState {
  state::ProcessRecord record;
  ProcessStatus status = ProcessStatus::stopped;
  std::optional<state::ExitRecord> exit;  // set when stopped
  bool exit_recorded = false;             // `exit` read from exit.json (not "monitor-lost")
};

// Creates the container's state dir, starts its monitor and returns once the
// workload exists, blocked before exec. On error nothing is left behind.
// A pod sandbox (annotation container-type=sandbox) gets records only: it is
// started by start(), ends on a kill() whose signal would end a pause
// process (exit 128+signal) and has no process to wait for or list.
Result<pid_t> create(const Context& ctx, const CreateRequest& req);
// Creates an exec process from OCI Process JSON (the container must be running).
Result<pid_t> create_exec(const Context& ctx, const std::string& id, const std::string& exec_id,
                          const std::string& process_json, const StdioSpec& stdio);
// create() or create_exec() and start() in one step, for the CLI's `run` and
// `exec`: the monitor releases the workload as soon as it is ready, which
// saves start()'s round trip through the monitor's socket. An error: as
// create()'s, nothing is left. Otherwise `exec` holds start()'s result (a
// failed exec leaves a stopped process with its exit recorded, as start()).
struct Started {
  pid_t pid = 0;     // the workload
  UniqueFd monitor;  // a pidfd on its monitor, the caller's child (invalid for a sandbox)
  Status exec;
  ExitReport report;  // with stdio.foreground: the monitor's last word
};
Result<Started> create_started(const Context& ctx, const CreateRequest& req);
Result<Started> create_exec_started(const Context& ctx, const std::string& id,
                                    const std::string& exec_id, const std::string& process_json,
                                    const StdioSpec& stdio);
// Releases the workload; returns once exec succeeded (or with exec's error).
Status start(const Context& ctx, const std::string& id, const std::string& exec_id = {});
Result<ProcessState> get_state(const Context& ctx, const std::string& id,
                               const std::string& exec_id = {});
Status kill(const Context& ctx, const std::string& id, const std::string& exec_id, int sig,
            bool all);
// Blocks until the process has exited (waiting on the monitor's pidfd) and
// returns its exit record.
Result<state::ExitRecord> wait(const Context& ctx, const std::string& id,
                               const std::string& exec_id = {});
// A pidfd on the process's monitor, readable once it has exited (also when
// it has exited and was not reaped yet); invalid when the monitor is gone.
// The recorded monitor is checked first (monitor/identity.h): EPERM when
// state.json names a live process that is not it. `pid_out`: its pid.
Result<UniqueFd> monitor_pidfd(const Context& ctx, const std::string& id,
                               const std::string& exec_id = {}, pid_t* pid_out = nullptr);

// How a monitor ended, for its parent (the shim; the CLI's run and exec),
// which reaps it through its pidfd. A monitor exits with its workload's
// status (0-255): the channel that still delivers an exit that could not be
// written to exit.json (a full or read-only state filesystem).
struct MonitorExit {
  int code = 0;         // the workload's status, when !killed
  bool killed = false;  // the monitor itself was killed by a signal
};
// Reaps the monitor if it is our child and has exited; never blocks.
std::optional<MonitorExit> reap_monitor(int pidfd);
// The exit of a process whose monitor has ended: exit.json when it was
// written; else the status the monitor exited with, when its parent reaped
// it (reason "unrecorded", the time is now; "removed" when the monitor
// deleted the container, CreateRequest::remove_at_exit); else
// "monitor-lost" (255). An error while the monitor still runs.
Result<state::ExitRecord> exit_after_monitor(const Context& ctx, const std::string& id,
                                             const std::string& exec_id,
                                             std::optional<MonitorExit> monitor);
Status resize(const Context& ctx, const std::string& id, const std::string& exec_id, unsigned cols,
              unsigned rows);
Status close_stdin(const Context& ctx, const std::string& id, const std::string& exec_id);
// Deletes a container (refused while it runs unless `force`) or one exec.
// With `force`, a monitor its records do not lead to (state.json
// unreadable, or naming some other process) is found through the peer of
// its socket and ended too; a socket served by anything but that monitor
// refuses the delete (EPERM), rather than leave the monitor running.
Status remove(const Context& ctx, const std::string& id, bool force);
Status remove_exec(const Context& ctx, const std::string& id, const std::string& exec_id);
// Every process of the container: init, its descendants, exec processes.
struct PidInfo {
  pid_t pid;
  std::string exec_id;  // empty for the init process and its descendants
};
Result<std::vector<PidInfo>> pids(const Context& ctx, const std::string& id);
Result<std::vector<std::string>> exec_ids(const Context& ctx, const std::string& id);

// --- resources (runtime/resources.cc; docs/resources.md) ---------------------

// The container's usage as the Any of a Stats reply: type_url
// "io.containerd.cgroups.v1.Metrics" or ".v2.Metrics" (the node's cgroup
// version), value the serialized message. Read from its cgroup; for a
// container without one (REAPER_CGROUPS=disabled, no linux.cgroupsPath, a
// pod sandbox) estimated from /proc of its processes. ESRCH once the
// container has ended and its cgroup is gone.
Result<cgroup::MetricsAny> stats(const Context& ctx, const std::string& id);
// The same, not encoded (the CLI's `events --stats`).
Result<cgroup::Stats> read_stats(const Context& ctx, const std::string& id);
// Applies OCI LinuxResources JSON (the Update RPC's Any value, `reaper-runtime
// update`) to the container's cgroup; fields absent from the JSON are left as
// they are. Invalid JSON or values are errors (EINVAL) before anything is
// written. With REAPER_CGROUPS=disabled it is validated and ignored; a
// container that has no cgroup otherwise is ENOTSUP.
Status update(const Context& ctx, const std::string& id, const std::string& resources_json);
// Watches the container's cgroup for OOM kills: add watch.fd() to an epoll
// set; when readable call watch.consume(), true = publish TaskOOM. A
// container without a cgroup gets a watch with fd() == -1 that never fires.
// Drop the watch when the container is deleted.
Result<cgroup::OomWatch> watch_oom(const Context& ctx, const std::string& id);
// When the container's monitor is gone without removing its cgroup (it was
// killed): kill what is left in it and remove it. remove() calls this.
Status release_cgroup(const Context& ctx, const std::string& id);

}  // namespace reaper::runtime
