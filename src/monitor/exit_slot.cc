#include "monitor/exit_slot.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "common/fd.h"
#include "common/fs.h"

namespace reaper::monitor {

namespace {

constexpr const char* exit_name = "exit.json";

// The slot, if it is still a regular file of its size: opened for writing
// from an O_PATH handle on the inode checked (nothing else is ever opened).
Result<UniqueFd> open_slot(int dirfd, size_t need) {
  UniqueFd handle(::openat(dirfd, exit_slot_name, O_PATH | O_NOFOLLOW | O_CLOEXEC));
  if (!handle) return sys_error("open `{}`", fs::path_at(dirfd, exit_slot_name));
  struct stat st {};
  if (::fstat(handle.get(), &st) < 0) return sys_error("stat `{}`", exit_slot_name);
  if (!S_ISREG(st.st_mode) || static_cast<size_t>(st.st_size) < need)
    return errno_error(EINVAL, "`{}` is not the slot reserved for the exit record",
                       fs::path_at(dirfd, exit_slot_name));
  UniqueFd fd(::open(fmt::format("/proc/self/fd/{}", handle.get()).c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd) return sys_error("open `{}`", fs::path_at(dirfd, exit_slot_name));
  return fd;
}

Status write_into_slot(int dirfd, std::string_view json) {
  auto fd = REAPER_TRY(open_slot(dirfd, json.size()));
  size_t done = 0;
  while (done < json.size()) {
    ssize_t n =
        ::pwrite(fd.get(), json.data() + done, json.size() - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys_error("write `{}`", fs::path_at(dirfd, exit_slot_name));
    done += static_cast<size_t>(n);
  }
  if (::ftruncate(fd.get(), static_cast<off_t>(json.size())) < 0)
    return sys_error("truncate `{}`", fs::path_at(dirfd, exit_slot_name));
  fd.reset();
  if (::renameat(dirfd, exit_slot_name, dirfd, exit_name) < 0)
    return sys_error("rename `{}` to `{}`", fs::path_at(dirfd, exit_slot_name), exit_name);
  return {};
}

}  // namespace

Status reserve_exit_slot(int dirfd) {
  UniqueFd fd(
      ::openat(dirfd, exit_slot_name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd)
    return sys_error("reserve room for the exit record: create `{}`",
                     fs::path_at(dirfd, exit_slot_name));
  if (auto st = fs::write_all(fd.get(), std::string(exit_slot_size, ' ')); !st) {
    ::unlinkat(dirfd, exit_slot_name, 0);
    return std::move(st).error().wrap(
        fmt::format("reserve room for the exit record: `{}`", fs::path_at(dirfd, exit_slot_name)));
  }
  return {};
}

Status write_exit_record(int dirfd, std::string_view json) {
  Status slot;
  if (json.size() <= exit_slot_size) {
    slot = write_into_slot(dirfd, json);
    if (slot.ok()) return {};
  }
  // No usable slot (removed, replaced, the record too long): a new file.
  auto fresh = fs::write_file_atomic_at(dirfd, exit_name, json);
  if (fresh.ok() || slot.ok()) return fresh;
  return Error(fresh.error().err(), fmt::format("record the exit: {}; then without the slot: {}",
                                                slot.error().what(), fresh.error().message()));
}

}  // namespace reaper::monitor
