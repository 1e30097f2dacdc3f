#pragma once
// The state store: one directory per container under the root (default
// /run/reaper), 0700, files 0600. Every path below the root is reached
// through directory fds opened with O_NOFOLLOW, so a symlink planted in the
// tree is never followed. Ids are validated before anything is touched.
//
// Missing containers are errors with errno ENOENT, existing ones EEXIST, so
// callers (the shim) can map them to NotFound / AlreadyExists.

#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "common/fd.h"

namespace reaper::state {

class Store {
 public:
  // Opens (creating if needed) the root directory.
  static Result<Store> open(const std::string& root);

  [[nodiscard]] const std::string& root() const { return root_; }
  [[nodiscard]] int root_fd() const { return root_fd_.get(); }
  [[nodiscard]] std::string path_of(std::string_view id) const;

  // <root>/<id>: created exclusively (EEXIST if it exists).
  Result<UniqueFd> create_dir(std::string_view id) const;
  Result<UniqueFd> open_dir(std::string_view id) const;
  // Removes <root>/<id> and everything below it.
  Status remove_dir(std::string_view id) const;
  // The ids present (entries that are not valid ids are skipped).
  Result<std::vector<std::string>> list() const;

 private:
  Store(std::string root, UniqueFd fd) : root_(std::move(root)), root_fd_(std::move(fd)) {}
  std::string root_;
  UniqueFd root_fd_;
};

// Removes `name` below dirfd recursively, never following symlinks.
Status remove_tree_at(int dirfd, const std::string& name);

// The exec processes with state in a container's directory: the valid ids
// below its `exec/`, sorted (none when it has no `exec/`).
Result<std::vector<std::string>> exec_ids_at(int container_dirfd);

// An exclusive flock on a directory fd, released on destruction. Serialises
// concurrent CLI calls on one container.
class DirLock {
 public:
  static Result<DirLock> acquire(int dirfd, std::string_view what);
  DirLock(DirLock&&) = default;
  DirLock& operator=(DirLock&&) = default;

 private:
  explicit DirLock(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;
};

}  // namespace reaper::state
