// reaper-runtime exec: run another process in a running container. The
// process comes from --process (OCI Process JSON) or from the arguments after
// the id, inheriting the container's env, cwd, user and capabilities like
// runc. Waits for it (exit code = its exit code) unless --detach.
#include <fcntl.h>
#include <unistd.h>

#include <charconv>
#include <random>

#include "common/fs.h"
#include "oci/process_json.h"
#include "oci/spec.h"
#include "runtime/cli.h"
#include "runtime/wait_foreground.h"

namespace reaper::cli {

namespace {

std::string random_exec_id() {
  unsigned char bytes[8];
  UniqueFd fd(::open("/dev/urandom", O_RDONLY | O_CLOEXEC));
  if (!fd || ::read(fd.get(), bytes, sizeof bytes) != sizeof bytes) {
    std::random_device rd;
    for (auto& b : bytes) b = static_cast<unsigned char>(rd());
  }
  std::string id = "exec-";
  for (unsigned char b : bytes) id += fmt::format("{:02x}", b);
  return id;
}

Result<std::pair<uint32_t, std::optional<uint32_t>>> parse_user(std::string_view s) {
  auto colon = s.find(':');
  uint32_t uid = 0;
  auto u = s.substr(0, colon);
  if (std::from_chars(u.data(), u.data() + u.size(), uid).ec != std::errc())
    return make_error("--user `{}`: expected UID[:GID] as numbers", s);
  if (colon == std::string_view::npos) return std::pair{uid, std::optional<uint32_t>()};
  uint32_t gid = 0;
  auto g = s.substr(colon + 1);
  if (std::from_chars(g.data(), g.data() + g.size(), gid).ec != std::errc())
    return make_error("--user `{}`: expected UID[:GID] as numbers", s);
  return std::pair{uid, std::optional<uint32_t>(gid)};
}

// A Process built from the container's own, with the given args and overrides.
Result<std::string> process_from_args(const runtime::Context& ctx, const std::string& id,
                                      const Flags& f) {
  auto st = REAPER_TRY(runtime::get_state(ctx, id));
  auto spec = REAPER_TRY(oci::load_spec(st.record.bundle));
  oci::Process p = spec.process.value_or(oci::Process{});
  p.args.assign(f.positional.begin() + 1, f.positional.end());
  p.terminal = f.has("tty");
  p.console_size.reset();
  if (f.has("cwd")) p.cwd = f.get("cwd");
  for (const auto& e : f.all("env")) {
    if (e.find('=') == std::string::npos) return make_error("--env `{}`: expected KEY=VALUE", e);
    p.env.push_back(e);
  }
  if (f.has("user")) {
    auto [uid, gid] = REAPER_TRY(parse_user(f.get("user")));
    p.user.uid = uid;
    if (gid) p.user.gid = *gid;
    p.user.additional_gids.clear();
  }
  if (f.has("no-new-privs")) p.no_new_privileges = true;
  return oci::to_json(p);
}

}  // namespace

int cmd_exec(const Invocation& inv) {
  auto flags = Flags::parse(inv.args, {{"process|p", true},
                                       {"tty|t"},
                                       {"detach|d"},
                                       {"pid-file", true},
                                       {"exec-id", true},
                                       {"cwd", true},
                                       {"env|e", true},
                                       {"user|u", true},
                                       {"console-socket", true},
                                       {"preserve-fds", true},
                                       {"no-new-privs"}});
  if (!flags) return fail(inv, flags.error());
  auto preserved = preserved_fds(*flags);  // first: before any fd of ours is opened
  if (!preserved) return fail(inv, preserved.error());
  if (flags->positional.empty())
    return fail(inv, make_error("usage: reaper-runtime exec [flags] ID [-- ARGS...]"));
  const std::string id = flags->positional[0];
  bool from_file = flags->has("process");
  if (from_file == (flags->positional.size() > 1))
    return fail(inv, make_error("give either --process FILE or the command after the id"));
  auto ctx = context(inv);
  if (!ctx) return fail(inv, ctx.error());
  auto json = from_file ? fs::read_file(flags->get("process"), 1 << 20)
                        : process_from_args(*ctx, id, *flags);
  if (!json) return fail(inv, json.error());
  std::string exec_id = flags->get("exec-id", random_exec_id());
  runtime::StdioSpec stdio;
  stdio.console_socket = flags->get("console-socket");
  stdio.foreground = !flags->has("detach");
  stdio.preserve_fds = *preserved;
  auto started = runtime::create_exec_started(*ctx, id, exec_id, *json, stdio);
  if (!started) return fail(inv, started.error());
  if (flags->has("pid-file")) {
    if (auto st = write_pid_file(flags->get("pid-file"), started->pid); !st)
      return fail(inv, st.error());
  }
  if (flags->has("detach")) return started->exec ? 0 : fail(inv, started->exec.error());
  auto exit =
      wait_foreground(*ctx, id, exec_id, std::move(started->monitor), std::move(started->report));
  if (!started->exec) fail(inv, started->exec.error());
  (void)runtime::remove_exec(*ctx, id, exec_id);
  if (!exit) return fail(inv, exit.error());
  return exit->status;
}

}  // namespace reaper::cli
