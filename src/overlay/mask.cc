// Masking: host files a workload has no business reading are hidden in the
// view when the group's namespace is created.
//
// - A directory is covered by an empty read-only tmpfs (same mode and owner).
// - Any other file is covered by a read-only bind of an empty file.
// - The password databases (/etc/shadow, /etc/gshadow and their `-` backups)
//   instead get a sanitized copy written into the view (into the upper
//   layer): every password field becomes `!`. User names stay, so `useradd`,
//   `passwd -S` and PAM account checks work, and since the copy is a plain
//   overlay file, tools that replace it by rename (useradd) keep working;
//   a bind mount there would make them fail with EBUSY.
// Paths that do not exist on this host are skipped. Everything else is fatal:
// a view that could not be masked is never used.

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "common/fs.h"
#include "overlay/internal.h"
#include "overlay/kernel.h"

namespace reaper::overlay {

const std::vector<std::string>& default_masked_paths() {
  static const std::vector<std::string> paths = {
      // The original Reaper's list.
      "/root/.ssh",
      "/etc/shadow",
      "/etc/gshadow",
      "/etc/ssh/ssh_host_rsa_key",
      "/etc/ssh/ssh_host_ecdsa_key",
      "/etc/ssh/ssh_host_ed25519_key",
      "/etc/ssl/private",
      "/var/lib/docker",
      "/etc/sudoers",
      "/etc/sudoers.d",
      // Backups of the password databases hold the same hashes.
      "/etc/shadow-",
      "/etc/gshadow-",
      "/etc/security/opasswd",
      "/etc/ssh/ssh_host_dsa_key",
      // Kubelet and control-plane credentials (kubeadm layout).
      "/var/lib/kubelet/pki",
      "/var/lib/kubelet/kubeconfig",
      "/etc/kubernetes/pki",
      "/etc/kubernetes/admin.conf",
      "/etc/kubernetes/super-admin.conf",
      "/etc/kubernetes/kubelet.conf",
      "/etc/kubernetes/bootstrap-kubelet.conf",
      "/etc/kubernetes/controller-manager.conf",
      "/etc/kubernetes/scheduler.conf",
      "/var/lib/etcd",
      // k3s and rke2.
      "/etc/rancher/k3s/k3s.yaml",
      "/etc/rancher/rke2/rke2.yaml",
      "/var/lib/rancher/k3s/server/tls",
      "/var/lib/rancher/k3s/server/token",
      "/var/lib/rancher/k3s/server/cred",
      "/var/lib/rancher/rke2/server/tls",
      "/var/lib/rancher/rke2/server/token",
      "/var/lib/rancher/rke2/server/cred",
  };
  return paths;
}

bool is_password_database(std::string_view path) {
  return path == "/etc/shadow" || path == "/etc/gshadow" || path == "/etc/shadow-" ||
         path == "/etc/gshadow-";
}

std::string sanitize_password_database(std::string_view content) {
  std::string out;
  size_t pos = 0;
  while (pos < content.size()) {
    size_t end = content.find('\n', pos);
    bool has_newline = end != std::string_view::npos;
    if (!has_newline) end = content.size();
    std::string_view line = content.substr(pos, end - pos);
    pos = end + 1;
    if (line.empty() || line.front() == '#') {
      out += line;
    } else {
      auto first = line.find(':');
      if (first == std::string_view::npos) continue;  // not an entry: could be anything
      auto second = line.find(':', first + 1);
      out += line.substr(0, first + 1);
      out += '!';
      if (second != std::string_view::npos) out += line.substr(second);
    }
    if (has_newline) out += '\n';
  }
  return out;
}

Result<MaskPlan> plan_masks(const NodeConfig& cfg) {
  MaskPlan plan;
  if (!cfg.filter_enabled) return plan;
  std::vector<std::string> wanted;
  if (cfg.filter_mode == FilterMode::append) wanted = default_masked_paths();
  for (const auto& p : cfg.filter_paths)
    if (std::find(wanted.begin(), wanted.end(), p) == wanted.end()) wanted.push_back(p);
  for (const auto& p : wanted) {
    if (std::find(cfg.filter_allowlist.begin(), cfg.filter_allowlist.end(), p) !=
        cfg.filter_allowlist.end())
      continue;
    if (!is_password_database(p)) {
      plan.paths.push_back(p);
      continue;
    }
    struct stat st {};
    if (::stat(p.c_str(), &st) < 0) {
      if (errno == ENOENT || errno == ENOTDIR) continue;
      return sys_error("stat `{}`", p);
    }
    auto text = REAPER_TRY_CTX(fs::read_file(p), "sanitize `{}`", p);
    plan.sanitized.push_back(
        {p, sanitize_password_database(text), st.st_mode & 07777, st.st_uid, st.st_gid});
  }
  return plan;
}

Status mask_directory(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) < 0) {
    if (errno == ENOENT || errno == ENOTDIR) return {};
    return sys_error("stat `{}`", path);
  }
  if (!S_ISDIR(st.st_mode)) return make_error("mask `{}`: not a directory", path);
  std::string opts = fmt::format("size=4k,nr_inodes=16,mode={:o},uid={},gid={}", st.st_mode & 07777,
                                 st.st_uid, st.st_gid);
  if (::mount(kernel::mask_source, path.c_str(), "tmpfs",
              MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, opts.c_str()) < 0)
    return sys_error("mask `{}` with an empty tmpfs", path);
  return {};
}

namespace {

Status mask_file(const std::string& path, int empty_file_fd) {
  if (::mount(kernel::fd_path(empty_file_fd).c_str(), path.c_str(), nullptr, MS_BIND, nullptr) < 0)
    return sys_error("mask `{}` with an empty file", path);
  // The remount resolves `path` again and finds the bind just made on top.
  if (::mount(nullptr, path.c_str(), nullptr,
              MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) < 0)
    return sys_error("make the mask on `{}` read-only", path);
  return {};
}

Status write_sanitized(const SanitizedFile& f) {
  auto [dir, name] = kernel::split_path(f.path);
  UniqueFd dirfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dirfd) {
    if (errno == ENOENT) return {};
    return sys_error("open `{}`", dir);
  }
  return kernel::replace_file_at(dirfd.get(), name, f.content, f.mode, f.uid, f.gid);
}

}  // namespace

Status apply_masks(const MaskPlan& plan, int empty_file_fd) {
  for (const auto& f : plan.sanitized)
    REAPER_TRY_CTX(write_sanitized(f), "write a sanitized `{}`", f.path);
  for (const auto& path : plan.paths) {
    struct stat st {};
    if (::stat(path.c_str(), &st) < 0) {
      if (errno == ENOENT || errno == ENOTDIR) continue;  // not on this host
      return sys_error("stat `{}`", path);
    }
    if (S_ISDIR(st.st_mode)) {
      REAPER_TRY(mask_directory(path));
    } else {
      REAPER_TRY(mask_file(path, empty_file_fd));
    }
  }
  return {};
}

}  // namespace reaper::overlay
