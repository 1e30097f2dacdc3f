#include "monitor/monitor.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <charconv>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "common/config.h"
#include "common/fs.h"
#include "common/syscalls.h"
#include "monitor/child.h"
#include "monitor/control.h"
#include "monitor/exit_slot.h"
#include "monitor/inherited_fds.h"
#include "monitor/options.h"
#include "monitor/placement.h"
#include "monitor/stdio.h"
#include "network/network.h"
#include "oci/spec.h"
#include "overlay/overlay.h"
#include "process/proc.h"
#include "state/record.h"
#include "state/store.h"

extern char** environ;  // read once in run() and passed down

namespace reaper::monitor {

namespace {

constexpr int forwarded_signals[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};

class Monitor {
 public:
  Monitor(Options o, const char* const* envp) : o_(std::move(o)), envp_(envp) {}

  // Everything up to "created"; on error nothing of the workload remains.
  Status setup();
  // After a failed setup: what setup created goes before the error is
  // reported, so that a failed create leaves nothing behind when it returns.
  void abandon();
  // A line on the sync fd, which is closed after the `last` one.
  void report(std::string_view line, bool last = true);
  // --start: releases the workload now and waits for its exec. An error:
  // its set-up failed (as setup() would); else the exec's failure, if any.
  Result<std::optional<Error>> start_at_once();
  [[nodiscard]] pid_t pid() const { return child_.pid; }
  // The monitor exits with its workload's status (0-255): its parent gets
  // the exit from it even when exit.json could not be written.
  [[nodiscard]] int exit_status() const { return exit_.status & 0xff; }
  // The event loop; returns when the workload has exited and all is recorded.
  void loop();

 private:
  Status open_dirs();
  Result<oci::Process> load_process();
  Status load_config();
  Status enter_overlay();
  Status block_signals();
  Status write_state_record();
  Status mark_started();  // the `started` record

  void on_signals();
  void on_accept();
  void on_request(int conn);
  void on_exec_report();
  void on_relay(int from, int to);
  std::string handle(std::string_view request, int conn, bool& keep);
  std::string do_kill(std::string_view args);
  std::string do_resize(std::string_view args);
  std::string do_start(int conn, bool& keep);

  void reap();
  void finish();
  void kill_descendants();
  void remove_state();
  void drain_terminal();
  void log(const Error& e);

  Status add(int fd, uint32_t events = EPOLLIN);
  void remove(int fd);
  void reply(int conn, std::string_view text);

  Options o_;
  std::optional<oci::Process> process_;
  oci::Spec spec_;
  std::optional<NodeConfig> config_;
  const char* const* envp_;
  std::optional<state::Store> store_;  // the state root (opened in the host's namespace)
  UniqueFd dir_;                       // this process's state directory
  UniqueFd container_dir_;             // <root>/<id> (the same as dir_ for the init process)
  cgroup::Cgroup cgroup_;              // invalid when the workload gets none
  UniqueFd cgroup_channel_;            // --cgroup-fd: the init process's cgroup comes on it
  UniqueFd netns_;                     // the pod network the workload joins; invalid: the host's
  UniqueFd epoll_;
  UniqueFd signals_;
  UniqueFd listener_;
  Stdio stdio_;
  Child child_;
  std::map<int, UniqueFd> conns_;
  int pending_start_ = -1;  // connection waiting for the exec result
  bool started_ = false;
  bool in_overlay_ = false;  // entered the group's view (volumes mounted)
  bool exited_ = false;
  bool exit_recorded_ = false;
  bool logged_ = false;  // an error went to monitor.log
  state::ExitRecord exit_;
};

Status Monitor::open_dirs() {
  store_ = REAPER_TRY(state::Store::open(o_.root));
  container_dir_ = REAPER_TRY(store_->open_dir(o_.id));
  dir_ = REAPER_TRY(store_->open_dir(o_.id));
  if (!o_.exec_id.empty()) {
    auto exec_dir = REAPER_TRY(fs::open_dir_at(container_dir_.get(), "exec"));
    dir_ = REAPER_TRY(fs::open_dir_at(exec_dir.get(), o_.exec_id));
  }
  return {};
}

// The init process comes from the bundle's config.json; an exec from its
// process.json (the container's spec still gives the overlay its mounts).
Result<oci::Process> Monitor::load_process() {
  spec_ = REAPER_TRY(oci::load_spec(o_.bundle));
  if (o_.exec_id.empty()) {
    if (!spec_.process) return make_error("{}/config.json: process: missing", o_.bundle);
    return *spec_.process;
  }
  auto text = REAPER_TRY(fs::read_file_at(dir_.get(), "process.json"));
  return oci::parse_process(text, "process.json");
}

Status Monitor::load_config() {
  config_ = REAPER_TRY(load_node_config(envp_));
  config_->state_root = o_.root;  // the caller's --root wins, as in make_context()
  return {};
}

// Enters the group's shared overlay view (creating it first if needed). After
// the FIFOs were opened: a FIFO opened through overlayfs would be another pipe.
// The container's image (overlay/image.h) is mounted there by the init
// process's enter(); every process of the container gets REAPER_IMAGE_ROOT.
Status Monitor::enter_overlay() {
  if (o_.overlay_group.empty()) return {};
  auto image = REAPER_TRY(overlay::find_image(spec_, o_.bundle, o_.root, o_.id));
  REAPER_TRY(overlay::enter(*config_, o_.overlay_group, spec_, o_.id, image));
  in_overlay_ = true;
  if (image) overlay::set_image_env(process_->env, image->dest);
  return {};
}

void Monitor::abandon() {
  if (child_.pid > 0) {  // our unreaped child: the pid is still its own
    ::kill(child_.pid, SIGKILL);
    ::waitpid(child_.pid, nullptr, 0);
    child_.pid = 0;
  }
  cgroup_ = cgroup::Cgroup();
  // The pod's volumes, mounted in the group's view for this workload.
  if (in_overlay_) (void)overlay::release(*config_, o_.overlay_group, o_.id);
}

Status Monitor::block_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGCHLD);
  for (int s : forwarded_signals) sigaddset(&set, s);
  if (::sigprocmask(SIG_BLOCK, &set, nullptr) < 0) return sys_error("sigprocmask");
  signals_.reset(::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!signals_) return sys_error("signalfd");
  ::signal(SIGPIPE, SIG_IGN);
  return {};
}

// Written once the workload exists, before "created" is reported.
Status Monitor::write_state_record() {
  state::ProcessRecord r;
  r.id = o_.id;
  r.exec_id = o_.exec_id;
  r.bundle = o_.bundle;
  r.pid = child_.pid;
  r.monitor_pid = ::getpid();
  r.monitor_start = REAPER_TRY(proc::read_stat(r.monitor_pid)).start_time;
  r.created_ns = state::now_ns();
  r.terminal = process_->terminal;
  r.stdin_path = o_.stdin_path;
  r.stdout_path = o_.stdout_path;
  r.stderr_path = o_.stderr_path;
  r.overlay_group = o_.overlay_group;
  r.netns = o_.netns;
  r.annotations = spec_.annotations;
  return fs::write_file_atomic_at(dir_.get(), "state.json", state::to_json(r));
}

Status Monitor::setup() {
  REAPER_TRY(close_inherited_fds(o_.preserve_fds, {o_.sync_fd, o_.cgroup_fd}));
  if (o_.cgroup_fd >= 0) cgroup_channel_.reset(o_.cgroup_fd);
  if (::setsid() < 0) return sys_error("setsid");
  if (::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0) return sys_error("become child subreaper");
  REAPER_TRY(open_dirs());
  // First: a state filesystem too full for the exit record fails the create.
  REAPER_TRY(reserve_exit_slot(dir_.get()));
  REAPER_TRY(block_signals());
  process_ = REAPER_TRY(load_process());
  REAPER_TRY(load_config());
  // In the host's mount namespace, before anything is created: a pod network
  // that cannot be had fails the create, it never falls back to the host's.
  if (!o_.netns.empty()) netns_ = REAPER_TRY_CTX(network::open_pod_netns(o_.netns), "pod network");
  // Before the overlay view: an exec's cgroup is opened by the host's paths.
  if (!o_.exec_id.empty()) cgroup_ = REAPER_TRY(open_exec_cgroup(container_dir_.get()));
  listener_ = REAPER_TRY(listen_at(dir_.get()));
  stdio_ = REAPER_TRY(setup_stdio(o_, *process_));
  REAPER_TRY(detach_own_stdio());
  REAPER_TRY(enter_overlay());
  // Last before the fork: the caller creates it while all of the above runs.
  if (cgroup_channel_) cgroup_ = REAPER_TRY(receive_container_cgroup(cgroup_channel_));
  child_ = REAPER_TRY_CTX(spawn_child(*process_, stdio_, cgroup_, netns_.get(), o_.preserve_fds,
                                      o_.start ? Release::at_once : Release::on_start),
                          "start the workload");
  // The workload has its copies; the monitor keeps only its holds.
  if (o_.preserve_fds > 0) sys::close_range(3, 2 + static_cast<unsigned>(o_.preserve_fds), 0);
  netns_.reset();
  stdio_.in.reset();
  stdio_.out.reset();
  stdio_.err.reset();
  REAPER_TRY(write_state_record());

  epoll_.reset(::epoll_create1(EPOLL_CLOEXEC));
  if (!epoll_) return sys_error("epoll_create1");
  REAPER_TRY(add(signals_.get()));
  REAPER_TRY(add(listener_.get()));
  if (stdio_.master && stdio_.relay_out) REAPER_TRY(add(stdio_.master.get()));
  if (stdio_.master && stdio_.relay_in) {
    // /dev/null and regular files cannot be watched (EPERM) and have nothing
    // to wait for: such a terminal simply gets no input.
    if (auto st = add(stdio_.relay_in.get()); !st) {
      if (st.error().err() != EPERM) return st;
      stdio_.relay_in.reset();
    }
  }
  return {};
}

Status Monitor::mark_started() {
  REAPER_TRY(fs::write_file_atomic_at(dir_.get(), "started", ""));
  started_ = true;
  return {};
}

Result<std::optional<Error>> Monitor::start_at_once() {
  REAPER_TRY(mark_started());
  auto failed = REAPER_TRY_CTX(await_exec(child_), "start the workload");
  if (failed) exit_.reason = "exec-failed";
  return failed;
}

void Monitor::report(std::string_view line, bool last) {
  (void)fs::write_all(o_.sync_fd, fmt::format("{}\n", line));
  if (last) ::close(o_.sync_fd);
}

Status Monitor::add(int fd, uint32_t events) {
  epoll_event ev{};
  ev.events = events;
  ev.data.fd = fd;
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev) < 0) return sys_error("epoll_ctl add");
  return {};
}

void Monitor::remove(int fd) {
  ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
}

void Monitor::log(const Error& e) {
  logged_ = true;
  UniqueFd fd(::openat(dir_.get(), "monitor.log",
                       O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (fd) (void)fs::write_all(fd.get(), fmt::format("reaper-monitor: {}\n", e.what()));
  // The node's log too (REAPER_RUNTIME_LOG): monitor.log goes with the state.
  if (config_ && !config_->runtime_log.empty()) {
    std::string who = o_.exec_id.empty() ? o_.id : fmt::format("{}/exec/{}", o_.id, o_.exec_id);
    (void)fs::append_to_log(config_->runtime_log,
                            fmt::format("{} error reaper-monitor {}: {}\n",
                                        state::format_rfc3339(state::now_ns()), who, e.what()));
  }
}

void Monitor::loop() {
  epoll_event events[16];
  while (!exited_) {
    int n = ::epoll_wait(epoll_.get(), events, 16, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      log(sys_error("epoll_wait"));
      break;
    }
    for (int i = 0; i < n && !exited_; ++i) {
      int fd = events[i].data.fd;
      if (fd == signals_.get())
        on_signals();
      else if (fd == listener_.get())
        on_accept();
      else if (fd == child_.report.get())
        on_exec_report();
      else if (stdio_.master && fd == stdio_.master.get())
        on_relay(fd, stdio_.relay_out.get());
      else if (stdio_.relay_in && fd == stdio_.relay_in.get())
        on_relay(fd, stdio_.master.get());
      else if (conns_.count(fd) != 0)
        on_request(fd);
    }
  }
  finish();
}

void Monitor::on_signals() {
  signalfd_siginfo si{};
  while (::read(signals_.get(), &si, sizeof si) == sizeof si) {
    int sig = static_cast<int>(si.ssi_signo);
    if (sig == SIGCHLD) continue;
    if (!exited_) ::kill(child_.pid, sig);  // forwarded to the workload
  }
  reap();
}

// Reaps every child that has exited; the workload's exit ends the loop.
void Monitor::reap() {
  for (;;) {
    int status = 0;
    pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid <= 0) return;
    if (pid != child_.pid) continue;  // an orphan reparented to us
    exited_ = true;
    exit_.exited_ns = state::now_ns();
    if (WIFSIGNALED(status)) {
      exit_.status = 128 + WTERMSIG(status);
      exit_.reason = started_ ? "signaled" : "killed-before-start";
    } else {
      exit_.status = WEXITSTATUS(status);
      exit_.reason = "exited";
    }
  }
}

void Monitor::on_accept() {
  for (;;) {
    UniqueFd conn(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK));
    if (!conn) return;
    int fd = conn.get();
    if (add(fd).ok()) conns_.emplace(fd, std::move(conn));
  }
}

void Monitor::reply(int conn, std::string_view text) {
  ::send(conn, text.data(), text.size(), MSG_NOSIGNAL);
  remove(conn);
  conns_.erase(conn);
}

void Monitor::on_request(int conn) {
  char buf[max_message];
  ssize_t n = ::recv(conn, buf, sizeof buf, 0);
  if (n < 0 && errno == EAGAIN) return;
  if (n <= 0) {
    remove(conn);
    conns_.erase(conn);
    return;
  }
  bool keep = false;
  std::string answer = handle(std::string_view(buf, static_cast<size_t>(n)), conn, keep);
  if (!keep) reply(conn, answer);
}

std::string Monitor::handle(std::string_view request, int conn, bool& keep) {
  auto space = request.find(' ');
  std::string_view verb = request.substr(0, space);
  std::string_view args = space == std::string_view::npos ? "" : request.substr(space + 1);
  if (verb == "start") return do_start(conn, keep);
  if (verb == "kill") return do_kill(args);
  if (verb == "resize") return do_resize(args);
  if (verb == "close-stdin") {
    stdio_.stdin_hold.reset();
    return ok_reply();
  }
  return err_reply(errno_error(EINVAL, "unknown request `{}`", verb));
}

std::string Monitor::do_start(int conn, bool& keep) {
  if (started_) return err_reply(errno_error(EBUSY, "the process was already started"));
  if (exited_) return err_reply(errno_error(ESRCH, "the process has already exited"));
  if (auto st = mark_started(); !st) return err_reply(st.error());
  char go = 'G';
  if (::write(child_.start.get(), &go, 1) != 1) return err_reply(sys_error("release workload"));
  child_.start.reset();
  if (auto st = add(child_.report.get()); !st) return err_reply(st.error());
  pending_start_ = conn;
  keep = true;
  return {};
}

// The exec result: EOF means exec succeeded; otherwise "E<code> <message>".
void Monitor::on_exec_report() {
  char buf[4096];
  ssize_t n = ::read(child_.report.get(), buf, sizeof buf);
  if (n < 0 && errno == EAGAIN) return;
  std::string answer = ok_reply(std::to_string(child_.pid));
  if (n > 0) {
    std::string_view msg(buf, static_cast<size_t>(n));
    auto space = msg.find(' ');
    int code = 0;
    std::from_chars(msg.data() + 1, msg.data() + std::min(space, msg.size()), code);
    msg = space == std::string_view::npos ? msg : msg.substr(space + 1);
    answer = err_reply(make_error("{}", msg));  // msg already names the errno
    exit_.reason = "exec-failed";
  }
  remove(child_.report.get());
  child_.report.reset();
  if (pending_start_ >= 0) reply(pending_start_, answer);
  pending_start_ = -1;
}

std::string Monitor::do_kill(std::string_view args) {
  auto space = args.find(' ');
  auto sig = oci::parse_signal(args.substr(0, space));
  if (!sig) return err_reply(sig.error());
  bool all = space != std::string_view::npos && args.substr(space + 1) == "1";
  if (exited_) return err_reply(errno_error(ESRCH, "process already finished"));
  if (all) {
    // Every descendant, and (init process) everything in the container's
    // cgroup: exec processes and processes that left the tree. Once each.
    std::set<pid_t> targets;
    for (pid_t p : proc::descendants(::getpid())) targets.insert(p);
    if (o_.exec_id.empty() && cgroup_.valid()) {
      if (auto in_cgroup = cgroup_.pids(); in_cgroup.ok())
        targets.insert(in_cgroup->begin(), in_cgroup->end());
    }
    for (pid_t p : targets) ::kill(p, *sig);
    return ok_reply();
  }
  if (::kill(child_.pid, *sig) < 0) return err_reply(sys_error("kill {}", child_.pid));
  return ok_reply();
}

std::string Monitor::do_resize(std::string_view args) {
  if (!stdio_.master) return err_reply(errno_error(ENOTTY, "the process has no terminal"));
  unsigned cols = 0;
  unsigned rows = 0;
  auto space = args.find(' ');
  if (space == std::string_view::npos ||
      std::from_chars(args.data(), args.data() + space, cols).ec != std::errc() ||
      std::from_chars(args.data() + space + 1, args.data() + args.size(), rows).ec != std::errc())
    return err_reply(errno_error(EINVAL, "resize: expected `<cols> <rows>`"));
  winsize ws{};
  ws.ws_col = static_cast<unsigned short>(cols);
  ws.ws_row = static_cast<unsigned short>(rows);
  if (::ioctl(stdio_.master.get(), TIOCSWINSZ, &ws) < 0) return err_reply(sys_error("TIOCSWINSZ"));
  return ok_reply();
}

void Monitor::on_relay(int from, int to) {
  char buf[16384];
  ssize_t n = ::read(from, buf, sizeof buf);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  if (n <= 0) {  // EOF, or EIO on a master whose slave side is closed
    remove(from);
    if (stdio_.relay_in && from == stdio_.relay_in.get()) stdio_.relay_in.reset();
    return;
  }
  // Blocking write: the terminal and the output FIFO are drained by their readers.
  int flags = ::fcntl(to, F_GETFL);
  ::fcntl(to, F_SETFL, flags & ~O_NONBLOCK);
  (void)fs::write_all(to, std::string_view(buf, static_cast<size_t>(n)));
  ::fcntl(to, F_SETFL, flags);
}

void Monitor::drain_terminal() {
  if (!stdio_.master || !stdio_.relay_out) return;
  char buf[16384];
  for (;;) {
    ssize_t n = ::read(stdio_.master.get(), buf, sizeof buf);
    if (n <= 0) return;  // EAGAIN (drained) or EIO (no slave left)
    (void)fs::write_all(stdio_.relay_out.get(), std::string_view(buf, static_cast<size_t>(n)));
  }
}

// Ends every remaining descendant (children the workload left behind were
// reparented to us, the subreaper) and reaps them. A process forking while
// we look is caught on the next round: each round reaps at least one.
void Monitor::kill_descendants() {
  for (;;) {
    // The monitor is a subreaper: any live descendant has a live ancestor
    // among its children. No child (the usual case once the workload was
    // reaped) means nothing to kill, without scanning all of /proc.
    siginfo_t info{};
    if (::waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) < 0 && errno == ECHILD) return;
    for (pid_t p : proc::descendants(::getpid())) ::kill(p, SIGKILL);
    int status = 0;
    pid_t pid = ::waitpid(-1, &status, 0);  // blocks until one of them is gone
    if (pid < 0 && errno == ECHILD) return;
    if (pid < 0 && errno != EINTR) return;
  }
}

// --remove: what `delete` does after a monitor has finished, done by the
// monitor itself (no round of checks and locks from the CLI after the exit).
// Not while exec processes keep state of their own: `delete` stops and
// waits for their monitors first.
void Monitor::remove_state() {
  auto ids = state::exec_ids_at(dir_.get());
  if (!ids.ok() || !ids->empty()) return;
  if (auto st = overlay::remove_image_dir_at(store_->root_fd(), o_.id); !st) return log(st.error());
  if (auto st = store_->remove_dir(o_.id); !st) log(st.error());
}

void Monitor::finish() {
  if (pending_start_ >= 0 && child_.report) on_exec_report();
  // The cgroup first (v1: frozen while killed, so a fork bomb cannot
  // outrun it), then our descendants, reaped; then whatever else was in the
  // cgroup (exec processes, processes moved in) is waited for and the cgroup
  // removed. The init process's monitor owns the cgroup; others only joined.
  bool owner = o_.exec_id.empty() && cgroup_.valid();
  if (owner) (void)cgroup_.kill_all(false);
  kill_descendants();
  if (owner) {
    // --remove: no records, the state goes next (placement.h).
    if (auto st = end_cgroup(cgroup_, container_dir_.get(), !o_.remove); !st) log(st.error());
  }
  drain_terminal();
  if (auto st = write_exit_record(dir_.get(), state::to_json(exit_)); !st)
    log(st.error());
  else
    exit_recorded_ = true;
  for (auto& [fd, conn] : conns_) {
    std::string text = err_reply(errno_error(ESRCH, "process already finished"));
    ::send(fd, text.data(), text.size(), MSG_NOSIGNAL);
  }
  conns_.clear();
  ::unlinkat(dir_.get(), socket_name, 0);
  // When the init process ends, so does every exec process of the container.
  if (o_.exec_id.empty()) {
    if (auto st = kill_exec_processes(dir_.get(), o_.root, o_.id); !st) log(st.error());
  }
  if (config_ && !o_.overlay_group.empty()) {
    if (auto st = overlay::release(*config_, o_.overlay_group, o_.id); !st) log(st.error());
  }
  // Only when all went well: otherwise `delete` has something left to do,
  // and monitor.log says what.
  if (o_.remove && exit_recorded_ && !logged_) remove_state();
}

}  // namespace

int run(Args args) {
  auto opts = parse_options(args);
  if (!opts) {
    fmt::print(stderr, "reaper-monitor: {}\n", opts.error().what());
    return 2;
  }
  const bool start = opts->start;
  const bool report_exit = opts->report_exit;
  Monitor m(std::move(*opts), environ);
  if (auto st = m.setup(); !st) {
    m.abandon();
    m.report(err_reply(st.error()));
    return 1;
  }
  if (start) {
    auto failed = m.start_at_once();
    if (!failed) {
      m.abandon();
      m.report(err_reply(failed.error()));
      return 1;
    }
    m.report(fmt::format("{}\n{}", ok_reply(std::to_string(m.pid())),
                         *failed ? err_reply(**failed) : ok_reply()),
             !report_exit);
  } else {
    m.report(ok_reply(std::to_string(m.pid())));
  }
  m.loop();
  // All is done and recorded: a caller in the foreground returns now, not
  // after our own exit (the unmapping of this process, its fds' release).
  if (report_exit) m.report(fmt::format("exit {}", m.exit_status()));
  return m.exit_status();
}

}  // namespace reaper::monitor
