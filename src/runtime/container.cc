#include "runtime/container.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <map>

#include "cgroup/handover.h"
#include "common/fs.h"
#include "common/syscalls.h"
#include "monitor/control.h"
#include "network/network.h"
#include "oci/spec.h"
#include "overlay/overlay.h"
#include "process/proc.h"
#include "runtime/container_cgroup.h"
#include "runtime/monitor_link.h"
#include "runtime/pod_network.h"
#include "runtime/spawn_monitor.h"
#include "state/id.h"

namespace reaper::runtime {

namespace {

// The directory of a process: <root>/<id> or <root>/<id>/exec/<exec-id>.
Result<UniqueFd> process_dir(const Context& ctx, const std::string& id,
                             const std::string& exec_id) {
  auto dir = REAPER_TRY(ctx.store.open_dir(id));
  if (exec_id.empty()) return dir;
  REAPER_TRY(state::validate_id(exec_id, "exec id"));
  // One component at a time: O_NOFOLLOW only covers the last one, and
  // `exec` itself must not be a symlink either.
  auto sub = fs::open_dir_at(dir.get(), "exec");
  if (sub) sub = fs::open_dir_at(sub->get(), exec_id);
  if (!sub) {
    if (sub.error().err() == ENOENT)
      return errno_error(ENOENT, "exec process `{}` of container `{}` does not exist", exec_id, id);
    return std::move(sub).error();
  }
  return sub;
}

Result<state::ProcessRecord> read_record(int dirfd, const std::string& what) {
  auto text = fs::read_file_at(dirfd, "state.json");
  if (!text.ok()) {
    if (text.error().err() == ENOENT)
      return errno_error(ENOENT, "{} has no state record (still being created?)", what);
    return std::move(text).error().wrap(what);
  }
  return state::parse_process_record(*text, fmt::format("{}: state.json", what));
}

std::string describe(const std::string& id, const std::string& exec_id) {
  return exec_id.empty() ? fmt::format("container `{}`", id)
                         : fmt::format("exec process `{}` of container `{}`", exec_id, id);
}

Result<ProcessState> state_at(const Context& ctx, int dirfd, const std::string& id,
                              const std::string& exec_id) {
  std::string what = describe(id, exec_id);
  ProcessState st;
  st.record = REAPER_TRY(read_record(dirfd, what));
  auto exit_text = fs::read_file_at(dirfd, "exit.json");
  if (exit_text.ok()) {
    st.status = ProcessStatus::stopped;
    st.exit = REAPER_TRY(state::parse_exit_record(*exit_text, fmt::format("{}: exit.json", what)));
    st.exit_recorded = true;
    return st;
  }
  // Absent means not exited yet; anything else (a symlink or FIFO in its
  // place) is not a state to guess from.
  if (exit_text.error().err() != ENOENT) return std::move(exit_text).error().wrap(what);
  struct stat sb {};
  bool started = ::fstatat(dirfd, "started", &sb, AT_SYMLINK_NOFOLLOW) == 0;
  // A live pid is the monitor only if it checks out as this process's
  // (monitor/identity.h): a forged record gets an error, not a status.
  if (st.record.sandbox ||
      REAPER_TRY_CTX(monitor_alive(identity_of(ctx, id, exec_id, st.record)), "{}", what)) {
    st.status = started ? ProcessStatus::running : ProcessStatus::created;
    return st;
  }
  // The monitor is gone without recording an exit (it was killed).
  st.status = ProcessStatus::stopped;
  st.exit = state::ExitRecord{255, 0, "monitor-lost"};
  return st;
}

std::vector<std::string> stdio_args(const StdioSpec& s) {
  std::vector<std::string> out;
  if (!s.inherit) out = {"--stdin", s.in, "--stdout", s.out, "--stderr", s.err};
  if (!s.console_socket.empty()) {
    out.emplace_back("--console-socket");
    out.push_back(s.console_socket);
  }
  return out;
}

// One request to the process's monitor, which is checked to be the one
// its record names before anything is sent (monitor/control.h).
Result<std::string> ask(const Context& ctx, int dirfd, const std::string& id,
                        const std::string& exec_id, const state::ProcessRecord& r,
                        std::string_view message) {
  return monitor::request(dirfd, identity_of(ctx, id, exec_id, r), message);
}

// A pod sandbox (the pause container CRI creates first) is simulated: no
// process, only its records. It is "running" once started and ends when
// killed, as the pause process would.
bool is_sandbox(const std::map<std::string, std::string>& annotations) {
  auto it = annotations.find(std::string(container_type_annotation));
  return it != annotations.end() && it->second == "sandbox";
}

// `netns`: the pod's network namespace its spec names, kept for the pod's
// containers in network mode `pod` (runtime/pod_network.h).
Result<pid_t> create_sandbox(const Context& ctx, const std::string& id, const std::string& bundle,
                             const std::map<std::string, std::string>& annotations,
                             const std::string& netns) {
  auto dir = REAPER_TRY(ctx.store.create_dir(id));
  state::ProcessRecord r;
  r.id = id;
  r.bundle = bundle;
  r.pid = sandbox_pid;
  r.created_ns = state::now_ns();
  r.sandbox = true;
  r.netns = netns;
  r.annotations = annotations;
  if (auto st = fs::write_file_atomic_at(dir.get(), "state.json", state::to_json(r)); !st) {
    (void)ctx.store.remove_dir(id);
    return std::move(st).error().wrap(fmt::format("create sandbox `{}`", id));
  }
  return r.pid;
}

// Signals a pause process would survive (their default action is to ignore
// or continue); every other one ends it.
bool sandbox_ignores(int sig) {
  return sig == 0 || sig == SIGCHLD || sig == SIGCONT || sig == SIGURG || sig == SIGWINCH;
}

}  // namespace

std::string_view to_string(ProcessStatus s) {
  switch (s) {
    case ProcessStatus::created:
      return "created";
    case ProcessStatus::running:
      return "running";
    case ProcessStatus::stopped:
      return "stopped";
  }
  return "unknown";
}

Result<Context> make_context(const char* const* envp, const std::string& root_override) {
  auto config = REAPER_TRY(load_node_config(envp));
  if (!root_override.empty()) config.state_root = root_override;
  auto store = REAPER_TRY(state::Store::open(config.state_root));
  return Context{std::move(config), std::move(store), envp};
}

namespace {

// create(), and with `start` create_started(): the monitor then releases
// the workload at once.
Result<Launched> launch_container(const Context& ctx, const CreateRequest& req, bool start) {
  REAPER_TRY(state::validate_id(req.id));
  // Validate everything that can be checked before the state dir exists.
  char resolved[PATH_MAX];
  if (::realpath(req.bundle.c_str(), resolved) == nullptr)
    return sys_error("bundle `{}`", req.bundle);
  std::string bundle = resolved;
  auto spec = REAPER_TRY(oci::load_spec(bundle));
  if (is_sandbox(spec.annotations)) {
    Launched out;
    out.workload = REAPER_TRY(
        create_sandbox(ctx, req.id, bundle, spec.annotations, network::spec_netns_path(spec)));
    if (start) out.exec = runtime::start(ctx, req.id);
    return out;
  }
  if (!spec.process) return make_error("{}/config.json: process: missing", bundle);
  if (spec.process->terminal && req.stdio.inherit && req.stdio.console_socket.empty() &&
      !req.stdio.foreground)
    return make_error("process.terminal is true: a --console-socket is required");
  std::string group = REAPER_TRY(
      overlay::group_for(ctx.config, spec.annotations, req.cli_namespace, req.fallback_namespace));
  // The monitor opens and checks it (missing, not a network namespace).
  std::string netns = REAPER_TRY_CTX(pod_netns_for(ctx, spec), "`{}/config.json`", bundle);

  auto dir = REAPER_TRY(ctx.store.create_dir(req.id));
  auto rootfs = mount_rootfs(dir.get(), spec, bundle, req.rootfs);
  if (!rootfs.ok()) {
    (void)ctx.store.remove_dir(req.id);
    return std::move(rootfs).error().wrap(fmt::format("create `{}`", req.id));
  }
  MonitorLaunch launch{{"--root", ctx.store.root(), "--id", req.id, "--bundle", bundle},
                       ctx.envp,
                       start,
                       start && req.remove_at_exit,
                       req.stdio.preserve_fds,
                       req.stdio.foreground,
                       {}};
  if (!group.empty()) {
    launch.args.emplace_back("--overlay-group");
    launch.args.push_back(group);
  }
  if (!netns.empty()) {
    launch.args.emplace_back("--netns");
    launch.args.push_back(netns);
  }
  auto extra = stdio_args(req.stdio);
  launch.args.insert(launch.args.end(), extra.begin(), extra.end());
  // Made here while the monitor starts up; ours to remove until it reports.
  std::optional<cgroup::Cgroup> cg;
  if (wants_cgroup(ctx.config, spec)) {
    launch.send_cgroup = [&](int sock) -> Status {
      cg = REAPER_TRY(create_container_cgroup(spec, dir.get()));
      auto sent = cgroup::send_cgroup(sock, *cg);
      // The monitor failed (and closed its end) before it took it: its
      // report says why, which is the error to give.
      int err = sent.ok() ? 0 : sent.error().err();
      if (err != 0 && err != EPIPE && err != ECONNRESET && err != ECONNREFUSED) return sent;
      return {};
    };
  }
  auto launched = launch_monitor(launch);
  if (!launched.ok()) {
    // Nothing half-created stays: the cgroup (emptied by the failed
    // monitor), the image's mount point (and with it a mount the failed
    // monitor left in the view), the state dir, and the rootfs mounts (when
    // `rootfs` goes).
    cg.reset();
    (void)overlay::remove_image_dir(ctx.store.root(), req.id);
    (void)ctx.store.remove_dir(req.id);
    return std::move(launched).error().wrap(fmt::format("create `{}`", req.id));
  }
  rootfs->release();     // mounted until remove()
  if (cg) cg->disown();  // the monitor's now
  return launched;
}

// create_exec(), and with `start` create_exec_started().
Result<Launched> launch_exec(const Context& ctx, const std::string& id, const std::string& exec_id,
                             const std::string& process_json, const StdioSpec& stdio, bool start) {
  REAPER_TRY(state::validate_id(exec_id, "exec id"));
  auto process = REAPER_TRY(oci::parse_process(process_json, "exec process"));
  auto container = REAPER_TRY(get_state(ctx, id));
  if (container.record.sandbox)
    return errno_error(EINVAL, "container `{}` is a simulated pod sandbox: nothing runs in it", id);
  if (container.status != ProcessStatus::running)
    return errno_error(EINVAL, "container `{}` is {}, not running", id,
                       to_string(container.status));
  if (process.terminal && stdio.inherit && stdio.console_socket.empty() && !stdio.foreground)
    return make_error("process.terminal is true: a --console-socket is required");
  auto dir = REAPER_TRY(ctx.store.open_dir(id));
  if (::mkdirat(dir.get(), "exec", 0700) < 0 && errno != EEXIST) return sys_error("mkdir exec");
  auto exec_root = REAPER_TRY(fs::open_dir_at(dir.get(), "exec"));
  if (::mkdirat(exec_root.get(), exec_id.c_str(), 0700) < 0) {
    if (errno == EEXIST)
      return errno_error(EEXIST, "exec process `{}` already exists in container `{}`", exec_id, id);
    return sys_error("mkdir exec/{}", exec_id);
  }
  auto cleanup = [&] { (void)state::remove_tree_at(exec_root.get(), exec_id); };
  auto exec_dir = fs::open_dir_at(exec_root.get(), exec_id);
  if (!exec_dir.ok()) {
    cleanup();
    return std::move(exec_dir).error();
  }
  if (auto st = fs::write_file_atomic_at(exec_dir->get(), "process.json", process_json); !st) {
    cleanup();
    return std::move(st).error();
  }
  MonitorLaunch launch{{"--root", ctx.store.root(), "--id", id, "--exec-id", exec_id, "--bundle",
                        container.record.bundle},
                       ctx.envp,
                       start,
                       false,
                       stdio.preserve_fds,
                       stdio.foreground,
                       {}};
  if (!container.record.overlay_group.empty()) {
    launch.args.emplace_back("--overlay-group");
    launch.args.push_back(container.record.overlay_group);
  }
  if (!container.record.netns.empty()) {  // the container's pod network
    launch.args.emplace_back("--netns");
    launch.args.push_back(container.record.netns);
  }
  auto extra = stdio_args(stdio);
  launch.args.insert(launch.args.end(), extra.begin(), extra.end());
  auto launched = launch_monitor(launch);
  if (!launched.ok()) {
    cleanup();
    return std::move(launched).error().wrap(fmt::format("exec `{}` in `{}`", exec_id, id));
  }
  return launched;
}

Started started_from(Launched&& l) {
  return Started{l.workload, std::move(l.monitor_fd), std::move(l.exec), std::move(l.report)};
}

}  // namespace

Result<pid_t> create(const Context& ctx, const CreateRequest& req) {
  return REAPER_TRY(launch_container(ctx, req, false)).workload;
}

Result<Started> create_started(const Context& ctx, const CreateRequest& req) {
  return started_from(REAPER_TRY(launch_container(ctx, req, true)));
}

Result<pid_t> create_exec(const Context& ctx, const std::string& id, const std::string& exec_id,
                          const std::string& process_json, const StdioSpec& stdio) {
  return REAPER_TRY(launch_exec(ctx, id, exec_id, process_json, stdio, false)).workload;
}

Result<Started> create_exec_started(const Context& ctx, const std::string& id,
                                    const std::string& exec_id, const std::string& process_json,
                                    const StdioSpec& stdio) {
  return started_from(REAPER_TRY(launch_exec(ctx, id, exec_id, process_json, stdio, true)));
}

Status start(const Context& ctx, const std::string& id, const std::string& exec_id) {
  auto dir = REAPER_TRY(process_dir(ctx, id, exec_id));
  auto st = REAPER_TRY(state_at(ctx, dir.get(), id, exec_id));
  if (st.status != ProcessStatus::created)
    return errno_error(EINVAL, "cannot start {}: it is {}", describe(id, exec_id),
                       to_string(st.status));
  if (st.record.sandbox) return fs::write_file_atomic_at(dir.get(), "started", "");
  REAPER_TRY_CTX(ask(ctx, dir.get(), id, exec_id, st.record, "start"), "start {}",
                 describe(id, exec_id));
  return {};
}

Result<ProcessState> get_state(const Context& ctx, const std::string& id,
                               const std::string& exec_id) {
  auto dir = REAPER_TRY(process_dir(ctx, id, exec_id));
  return state_at(ctx, dir.get(), id, exec_id);
}

Status kill(const Context& ctx, const std::string& id, const std::string& exec_id, int sig,
            bool all) {
  auto dir = REAPER_TRY(process_dir(ctx, id, exec_id));
  auto st = REAPER_TRY(state_at(ctx, dir.get(), id, exec_id));
  if (st.status == ProcessStatus::stopped)
    return errno_error(ESRCH, "{}: process already finished", describe(id, exec_id));
  if (st.record.sandbox) {
    if (sandbox_ignores(sig)) return {};
    state::ExitRecord exit{128 + sig, state::now_ns(), "signaled"};
    return fs::write_file_atomic_at(dir.get(), "exit.json", state::to_json(exit));
  }
  REAPER_TRY_CTX(
      ask(ctx, dir.get(), id, exec_id, st.record, fmt::format("kill {} {}", sig, all ? 1 : 0)),
      "kill {}", describe(id, exec_id));
  return {};
}

Result<UniqueFd> monitor_pidfd(const Context& ctx, const std::string& id,
                               const std::string& exec_id, pid_t* pid_out) {
  auto dir = REAPER_TRY(process_dir(ctx, id, exec_id));
  auto rec = REAPER_TRY(read_record(dir.get(), describe(id, exec_id)));
  auto fd = REAPER_TRY_CTX(recorded_monitor(identity_of(ctx, id, exec_id, rec)), "{}",
                           describe(id, exec_id));
  if (pid_out != nullptr) *pid_out = fd ? rec.monitor_pid : 0;
  return fd;
}

std::optional<MonitorExit> reap_monitor(int pidfd) {
  siginfo_t info{};
  if (::waitid(static_cast<idtype_t>(3) /* P_PIDFD */, static_cast<id_t>(pidfd), &info,
               WEXITED | WNOHANG) < 0 ||
      info.si_pid == 0)
    return std::nullopt;  // not our child, or not exited yet
  if (info.si_code == CLD_EXITED) return MonitorExit{info.si_status, false};
  return MonitorExit{0, true};
}

Result<state::ExitRecord> exit_after_monitor(const Context& ctx, const std::string& id,
                                             const std::string& exec_id,
                                             std::optional<MonitorExit> monitor) {
  auto got = get_state(ctx, id, exec_id);
  if (!got.ok() && got.error().err() == ENOENT && monitor && !monitor->killed)
    return state::ExitRecord{monitor->code, state::now_ns(), "removed"};
  auto st = REAPER_TRY(std::move(got));
  if (st.exit_recorded) return *st.exit;
  // exit.json could not be written (the monitor logged why, if it could):
  // the status the monitor exited with is the workload's.
  if (monitor && !monitor->killed)
    return state::ExitRecord{monitor->code, state::now_ns(), "unrecorded"};
  if (st.exit) return *st.exit;  // monitor-lost
  if (st.record.sandbox)
    return errno_error(EINVAL, "{} is a simulated pod sandbox: it has no process to wait for",
                       describe(id, exec_id));
  return make_error("{}: monitor exited but the process is {}", describe(id, exec_id),
                    to_string(st.status));
}

Result<state::ExitRecord> wait(const Context& ctx, const std::string& id,
                               const std::string& exec_id) {
  auto pidfd = REAPER_TRY(monitor_pidfd(ctx, id, exec_id));
  std::optional<MonitorExit> monitor;
  if (pidfd) {
    REAPER_TRY(wait_pidfd(pidfd.get()));
    monitor = reap_monitor(pidfd.get());  // the CLI's run and exec are its parent
  }
  return exit_after_monitor(ctx, id, exec_id, monitor);
}

Status resize(const Context& ctx, const std::string& id, const std::string& exec_id, unsigned cols,
              unsigned rows) {
  auto dir = REAPER_TRY(process_dir(ctx, id, exec_id));
  auto rec = REAPER_TRY(read_record(dir.get(), describe(id, exec_id)));
  REAPER_TRY(ask(ctx, dir.get(), id, exec_id, rec, fmt::format("resize {} {}", cols, rows)));
  return {};
}

Status close_stdin(const Context& ctx, const std::string& id, const std::string& exec_id) {
  auto dir = REAPER_TRY(process_dir(ctx, id, exec_id));
  auto rec = REAPER_TRY(read_record(dir.get(), describe(id, exec_id)));
  REAPER_TRY(ask(ctx, dir.get(), id, exec_id, rec, "close-stdin"));
  return {};
}

Result<std::vector<std::string>> exec_ids(const Context& ctx, const std::string& id) {
  auto dir = REAPER_TRY(ctx.store.open_dir(id));
  return state::exec_ids_at(dir.get());
}

// Stops a process that still runs (SIGKILL to all of it) and waits for its
// monitor to record the exit. With `force`, when its record does not lead
// to its monitor (unreadable, or naming some other process), the monitor
// listening on its socket is checked and ended instead: a forced delete
// must not leave a workload running with no state left to find it by.
static Status stop_and_wait(const Context& ctx, const std::string& id, const std::string& exec_id,
                            bool force) {
  auto dir = REAPER_TRY(process_dir(ctx, id, exec_id));
  auto rec = read_record(dir.get(), describe(id, exec_id));
  Result<UniqueFd> pidfd = rec.ok() ? monitor_pidfd(ctx, id, exec_id) : rec.error();
  if (!pidfd.ok()) {
    if (!force) return std::move(pidfd).error();
    auto ended =
        end_through_socket(dir.get(), monitor::Identity{ctx.store.root(), id, exec_id, 0, 0});
    if (!ended.ok())
      return std::move(ended).error().wrap(
          fmt::format("{}: its state record cannot be trusted ({})", describe(id, exec_id),
                      pidfd.error().what()));
    return {};
  }
  if (*pidfd) {
    (void)ask(ctx, dir.get(), id, exec_id, *rec, "kill 9 1");
    REAPER_TRY(wait_pidfd(pidfd->get()));
    (void)reap_monitor(pidfd->get());  // if it is our child; its exit is recorded
  }
  return {};
}

Status remove_exec(const Context& ctx, const std::string& id, const std::string& exec_id) {
  auto st = REAPER_TRY(get_state(ctx, id, exec_id));
  if (st.status != ProcessStatus::stopped)
    return errno_error(EBUSY, "{} is {}", describe(id, exec_id), to_string(st.status));
  auto dir = REAPER_TRY(ctx.store.open_dir(id));
  auto exec_root = REAPER_TRY(fs::open_dir_at(dir.get(), "exec"));
  return state::remove_tree_at(exec_root.get(), exec_id);
}

Status remove(const Context& ctx, const std::string& id, bool force) {
  auto dir = REAPER_TRY(ctx.store.open_dir(id));
  auto lock = REAPER_TRY(state::DirLock::acquire(dir.get(), describe(id, {})));
  auto st = state_at(ctx, dir.get(), id, {});
  if (st.ok() && st->status == ProcessStatus::running && !force)
    return errno_error(EBUSY, "container `{}` is running: stop it first or use --force", id);
  if (!st.ok() && !force) return std::move(st).error();
  if (!st.ok() || (st->status != ProcessStatus::stopped && !st->record.sandbox))
    REAPER_TRY(stop_and_wait(ctx, id, {}, force));
  else if (force && !st->record.sandbox)  // stopped, by its records: is a monitor still there?
    REAPER_TRY(end_through_socket(dir.get(), monitor::Identity{ctx.store.root(), id, {}, 0, 0}));
  for (const auto& e : REAPER_TRY(exec_ids(ctx, id))) REAPER_TRY(stop_and_wait(ctx, id, e, force));
  if (st.ok() && !st->record.overlay_group.empty())
    (void)overlay::release(ctx.config, st->record.overlay_group, id);
  REAPER_TRY(overlay::remove_image_dir(ctx.store.root(), id));
  REAPER_TRY(release_cgroup(ctx, id));
  REAPER_TRY(release_rootfs(dir.get()));
  return ctx.store.remove_dir(id);
}

Result<std::vector<PidInfo>> pids(const Context& ctx, const std::string& id) {
  std::vector<PidInfo> out;
  auto add_tree = [&](const std::string& exec_id) -> Status {
    auto st = REAPER_TRY(get_state(ctx, id, exec_id));
    if (st.status == ProcessStatus::stopped || st.record.sandbox) return {};
    for (pid_t p : proc::descendants(st.record.monitor_pid))
      out.push_back({p, p == st.record.pid ? exec_id : std::string()});
    return {};
  };
  REAPER_TRY(add_tree({}));
  for (const auto& e : REAPER_TRY(exec_ids(ctx, id))) REAPER_TRY(add_tree(e));
  return out;
}

}  // namespace reaper::runtime
