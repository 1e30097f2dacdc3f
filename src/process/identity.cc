#include "process/identity.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <string>
#include <vector>

#include "common/fs.h"

namespace reaper::process {

namespace {

struct RlimitName {
  std::string_view name;
  int resource;
};

constexpr std::array<RlimitName, 16> rlimit_names{{
    {"RLIMIT_AS", RLIMIT_AS},
    {"RLIMIT_CORE", RLIMIT_CORE},
    {"RLIMIT_CPU", RLIMIT_CPU},
    {"RLIMIT_DATA", RLIMIT_DATA},
    {"RLIMIT_FSIZE", RLIMIT_FSIZE},
    {"RLIMIT_LOCKS", RLIMIT_LOCKS},
    {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
    {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
    {"RLIMIT_NICE", RLIMIT_NICE},
    {"RLIMIT_NOFILE", RLIMIT_NOFILE},
    {"RLIMIT_NPROC", RLIMIT_NPROC},
    {"RLIMIT_RSS", RLIMIT_RSS},
    {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
    {"RLIMIT_RTTIME", RLIMIT_RTTIME},
    {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
    {"RLIMIT_STACK", RLIMIT_STACK},
}};

Status apply_rlimits(const oci::Process& p) {
  for (const auto& rl : p.rlimits) {
    auto it = std::find_if(rlimit_names.begin(), rlimit_names.end(),
                           [&](const RlimitName& n) { return n.name == rl.type; });
    if (it == rlimit_names.end()) return make_error("unknown rlimit `{}`", rl.type);
    // The raw syscall: glibc and musl disagree on setrlimit's resource type.
    rlimit lim{static_cast<rlim_t>(rl.soft), static_cast<rlim_t>(rl.hard)};
    if (::syscall(SYS_prlimit64, 0, it->resource, &lim, nullptr) < 0)
      return sys_error("setrlimit {} soft={} hard={}", rl.type, rl.soft, rl.hard);
  }
  return {};
}

Status apply_oom_score_adj(const oci::Process& p) {
  if (!p.oom_score_adj) return {};
  UniqueFd fd(::open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC));
  if (!fd) return sys_error("open `/proc/self/oom_score_adj`");
  REAPER_TRY_CTX(fs::write_all(fd.get(), std::to_string(*p.oom_score_adj)),
                 "set oom_score_adj to {}", *p.oom_score_adj);
  return {};
}

Result<std::vector<cap_value_t>> cap_values(const std::vector<std::string>& names) {
  std::vector<cap_value_t> out;
  for (const auto& n : names) {
    cap_value_t v = 0;
    if (cap_from_name(n.c_str(), &v) < 0) return make_error("unknown capability `{}`", n);
    out.push_back(v);
  }
  return out;
}

bool contains(const std::vector<cap_value_t>& set, cap_value_t v) {
  return std::find(set.begin(), set.end(), v) != set.end();
}

Status drop_bounding(const oci::Capabilities& caps) {
  auto bounding = REAPER_TRY(cap_values(caps.bounding));
  for (cap_value_t c = 0; c <= CAP_LAST_CAP; ++c) {
    if (contains(bounding, c)) continue;
    if (cap_drop_bound(c) < 0 && errno != EINVAL)
      return sys_error("drop `{}` from the bounding set", cap_to_name(c));
  }
  return {};
}

Status set_capability_sets(const oci::Capabilities& caps) {
  struct Set {
    cap_flag_t flag;
    const std::vector<std::string>* names;
  };
  const Set sets[] = {{CAP_PERMITTED, &caps.permitted},
                      {CAP_EFFECTIVE, &caps.effective},
                      {CAP_INHERITABLE, &caps.inheritable}};
  cap_t state = cap_init();
  if (state == nullptr) return sys_error("cap_init");
  for (const auto& s : sets) {
    auto values = cap_values(*s.names);
    if (!values.ok() ||
        (!values->empty() && cap_set_flag(state, s.flag, static_cast<int>(values->size()),
                                          values->data(), CAP_SET) < 0)) {
      cap_free(state);
      if (!values.ok()) return std::move(values).error();
      return sys_error("cap_set_flag");
    }
  }
  int rc = cap_set_proc(state);
  cap_free(state);
  if (rc < 0) return sys_error("set capabilities");
  // One call (libcap's cap_reset_ambient() first asks about each of the 41
  // capabilities in turn). EINVAL: a kernel without ambient capabilities.
  if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
    return sys_error("reset ambient capabilities");
  // The kernel keeps a capability in the ambient set only while it is both
  // permitted and inheritable; one the spec lists as ambient without being
  // both can never be ambient, so it is not asked for (runc and crun go on
  // past it as well; `runc spec`'s default config has such entries). This
  // is decided from the spec alone: a raise that fails is still an error.
  auto permitted = REAPER_TRY(cap_values(caps.permitted));
  auto inheritable = REAPER_TRY(cap_values(caps.inheritable));
  for (cap_value_t c : REAPER_TRY(cap_values(caps.ambient))) {
    if (!contains(permitted, c) || !contains(inheritable, c)) continue;
    if (cap_set_ambient(c, CAP_SET) < 0)
      return sys_error("raise ambient capability `{}`", cap_to_name(c));
  }
  return {};
}

Status apply_ids(const oci::Process& p) {
  const auto& u = p.user;
  if (::setgroups(u.additional_gids.size(), u.additional_gids.data()) < 0)
    return sys_error("setgroups");
  if (::setresgid(u.gid, u.gid, u.gid) < 0) return sys_error("setgid {}", u.gid);
  if (::setresuid(u.uid, u.uid, u.uid) < 0) return sys_error("setuid {}", u.uid);
  return {};
}

}  // namespace

Status apply_identity(const oci::Process& p) {
  // A working directory that does not exist is created (0755, by root, in
  // the overlay view), as runc does: images set a WORKDIR the node lacks.
  struct stat cwd {};
  if (::stat(p.cwd.c_str(), &cwd) < 0 && errno == ENOENT)
    REAPER_TRY_CTX(fs::mkdir_p(p.cwd, 0755), "create the working directory");
  REAPER_TRY(apply_rlimits(p));
  REAPER_TRY(apply_oom_score_adj(p));
  if (p.capabilities) {
    REAPER_TRY(drop_bounding(*p.capabilities));
    if (::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) return sys_error("keep capabilities");
  }
  REAPER_TRY(apply_ids(p));
  if (p.capabilities) {
    REAPER_TRY(set_capability_sets(*p.capabilities));
    ::prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
  }
  if (p.no_new_privileges && ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    return sys_error("set no_new_privs");
  ::umask(p.user.umask.value_or(022));
  if (::chdir(p.cwd.c_str()) < 0) return sys_error("chdir to `{}`", p.cwd);
  return {};
}

ExecFailure exec_process(const oci::Process& p) {
  std::vector<char*> argv;
  for (const auto& a : p.args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  std::string_view path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  for (const auto& e : p.env) {
    envp.push_back(const_cast<char*>(e.c_str()));
    if (e.starts_with("PATH=")) path = std::string_view(e).substr(5);
  }
  envp.push_back(nullptr);
  const std::string_view search_path = path;

  const std::string& name = p.args[0];
  if (name.find('/') != std::string::npos) {
    ::execve(name.c_str(), argv.data(), envp.data());
    int err = errno;
    return {err == ENOENT || err == ENOTDIR ? 127 : 126, errno_error(err, "exec `{}`", name)};
  }
  int first_error = 0;  // EACCES and the like win over "not found", as in a shell
  while (true) {
    auto colon = path.find(':');
    std::string_view dir = path.substr(0, colon);
    std::string candidate = fmt::format("{}/{}", dir.empty() ? "." : dir, name);
    ::execve(candidate.c_str(), argv.data(), envp.data());
    if (errno != ENOENT && errno != ENOTDIR && first_error == 0) first_error = errno;
    if (colon == std::string_view::npos) break;
    path.remove_prefix(colon + 1);
  }
  if (first_error != 0) return {126, errno_error(first_error, "exec `{}`", name)};
  return {127, make_error("exec `{}`: not found in PATH `{}`", name, search_path)};
}

}  // namespace reaper::process
