#include <fcntl.h>
#include <linux/magic.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include "network/network.h"

namespace reaper::network {

namespace {

std::string_view namespace_kind(int type) {
  switch (type) {
    case CLONE_NEWNS:
      return "mount";
    case CLONE_NEWCGROUP:
      return "cgroup";
    case CLONE_NEWUTS:
      return "uts";
    case CLONE_NEWIPC:
      return "ipc";
    case CLONE_NEWUSER:
      return "user";
    case CLONE_NEWPID:
      return "pid";
    case CLONE_NEWTIME:
      return "time";
    default:
      return "unknown";
  }
}

}  // namespace

Result<UniqueFd> open_netns(const std::string& path) {
  UniqueFd handle(::open(path.c_str(), O_PATH | O_CLOEXEC));
  if (!handle) return sys_error("network namespace `{}`", path);
  struct statfs sfs {};
  if (::fstatfs(handle.get(), &sfs) < 0) return sys_error("network namespace `{}`: statfs", path);
  if (sfs.f_type != NSFS_MAGIC)
    return make_error(
        "network namespace `{}`: not a namespace file (it is not on nsfs: expected "
        "a bind mount of /proc/<pid>/ns/net, such as /run/netns/<name>)",
        path);
  // Through the O_PATH handle: the inode checked above, not whatever the
  // path names by now.
  UniqueFd fd(::open(fmt::format("/proc/self/fd/{}", handle.get()).c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return sys_error("network namespace `{}`: open", path);
  int type = ::ioctl(fd.get(), NS_GET_NSTYPE);
  if (type < 0) return sys_error("network namespace `{}`: NS_GET_NSTYPE", path);
  if (type != CLONE_NEWNET)
    return make_error("network namespace `{}`: is a {} namespace, not a network namespace", path,
                      namespace_kind(type));
  return fd;
}

Result<UniqueFd> open_pod_netns(const std::string& path) {
  UniqueFd fd = REAPER_TRY(open_netns(path));
  struct stat target {};
  struct stat own {};
  if (::fstat(fd.get(), &target) < 0) return sys_error("network namespace `{}`: stat", path);
  if (::stat("/proc/self/ns/net", &own) < 0) return sys_error("stat /proc/self/ns/net");
  if (target.st_dev == own.st_dev && target.st_ino == own.st_ino)
    return make_error(
        "network namespace `{}`: is the one reaper runs in (the host's), not a pod's: the "
        "workload would use the host's network",
        path);
  return fd;
}

Status join(int fd) {
  if (::setns(fd, CLONE_NEWNET) < 0) return sys_error("join the pod's network namespace");
  return {};
}

}  // namespace reaper::network
