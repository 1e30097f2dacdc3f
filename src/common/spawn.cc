#include "common/spawn.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>

#include <algorithm>

#include "common/fd.h"

namespace reaper {

namespace {

class SpawnAttrs {
 public:
  SpawnAttrs() {
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_init(&actions);
  }
  ~SpawnAttrs() {
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&actions);
  }
  SpawnAttrs(const SpawnAttrs&) = delete;
  SpawnAttrs& operator=(const SpawnAttrs&) = delete;
  posix_spawnattr_t attr{};
  posix_spawn_file_actions_t actions{};
};

}  // namespace

Result<pid_t> spawn(const SpawnRequest& req) {
  SpawnAttrs sa;
  sigset_t all;
  sigfillset(&all);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigdefault(&sa.attr, &all);
  posix_spawnattr_setsigmask(&sa.attr, &none);
  posix_spawnattr_setflags(&sa.attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  if (req.null_stdio) {
    for (int target = 0; target <= 2; ++target) {
      bool placed = std::any_of(req.fds.begin(), req.fds.end(),
                                [&](const auto& p) { return p.second == target; });
      if (!placed)
        posix_spawn_file_actions_addopen(&sa.actions, target, "/dev/null",
                                         target == 0 ? O_RDONLY : O_WRONLY, 0);
    }
  }
  // A dup2 onto a number that is the source of another pair would clobber
  // that source: such sources are first copied above every target.
  int above = 3;
  for (const auto& p : req.fds) above = std::max(above, p.second + 1);
  std::vector<UniqueFd> copies;
  for (const auto& [from, to] : req.fds) {
    int source = from;
    // (`source`, not the structured binding: clang < 16 cannot capture those.)
    bool clobbered = std::any_of(req.fds.begin(), req.fds.end(), [&](const auto& p) {
      return p.second == source && p.first != source;
    });
    if (clobbered) {
      copies.emplace_back(::fcntl(from, F_DUPFD_CLOEXEC, above));
      if (!copies.back()) return sys_error("spawn `{}`: copy fd {}", req.path, from);
      source = copies.back().get();
    }
    posix_spawn_file_actions_adddup2(&sa.actions, source, to);
  }

  std::vector<std::string> argv_store = req.argv;
  std::vector<char*> argv;
  argv.reserve(argv_store.size() + 1);
  for (auto& a : argv_store) argv.push_back(a.data());
  argv.push_back(nullptr);
  char* empty_env[] = {nullptr};
  char* const* envp = req.envp != nullptr ? const_cast<char* const*>(req.envp) : empty_env;

  pid_t pid = 0;
  int rc = ::posix_spawn(&pid, req.path.c_str(), &sa.actions, &sa.attr, argv.data(), envp);
  if (rc != 0) return errno_error(rc, "start `{}`", req.path);
  return pid;
}

}  // namespace reaper
