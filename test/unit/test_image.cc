// Unit tests of the image for host processes: containerd's rootfs mounts ->
// mount(2) calls, root.path -> the image (or none), the paths and the
// environment. The real mounts are tested by test/integration/runtime/image.sh
// and test/e2e/image.sh.

#include <doctest/doctest.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "common/fs.h"
#include "overlay/image.h"
#include "runtime/rootfs.h"

using namespace reaper;
using runtime::plan_mount;
using runtime::RootfsMount;

namespace {

struct TempDir {
  TempDir() {
    char tmpl[] = "/tmp/reaper-image-test.XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    path = tmpl;
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string path;
};

oci::Spec spec_with_root(std::string root) {
  oci::Spec s;
  s.root_path = std::move(root);
  return s;
}

mode_t mode_of(const std::string& path) {
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

}  // namespace

TEST_CASE("plan_mount: the overlay mount of the overlayfs snapshotter") {
  RootfsMount m{"overlay",
                "overlay",
                "",
                {"index=off", "workdir=/s/2/work", "upperdir=/s/2/fs", "lowerdir=/s/1/fs"}};
  auto c = plan_mount(m, "/b/rootfs");
  REQUIRE(c.ok());
  CHECK(c->source == "overlay");
  CHECK(c->target == "/b/rootfs");
  CHECK(c->fstype == "overlay");
  CHECK(c->flags == 0);
  CHECK(c->data == "index=off,workdir=/s/2/work,upperdir=/s/2/fs,lowerdir=/s/1/fs");
  CHECK(c->remount == 0);
  CHECK(c->propagation == 0);

  m.options = {"ro", "lowerdir=/s/2/fs:/s/1/fs", "nosuid", "noatime"};
  c = plan_mount(m, "/b/rootfs");
  REQUIRE(c.ok());
  CHECK(c->flags == (MS_RDONLY | MS_NOSUID | MS_NOATIME));
  CHECK(c->data == "lowerdir=/s/2/fs:/s/1/fs");
}

TEST_CASE("plan_mount: flags later in the list win") {
  RootfsMount m{"ext4", "/dev/x", "", {"ro", "nodev", "rw", "dev", "defaults"}};
  auto c = plan_mount(m, "/r");
  REQUIRE(c.ok());
  CHECK(c->flags == 0);
  CHECK(c->data.empty());
}

TEST_CASE("plan_mount: binds (the native snapshotter)") {
  auto c = plan_mount({"bind", "/snap/3/fs", "", {"rbind", "ro"}}, "/b/rootfs");
  REQUIRE(c.ok());
  CHECK(c->fstype.empty());
  CHECK(c->flags == (MS_BIND | MS_REC));
  CHECK(c->remount == MS_RDONLY);  // a bind takes its flags through a remount
  CHECK(c->data.empty());

  c = plan_mount({"bind", "/snap/3/fs", "", {}}, "/b/rootfs");
  REQUIRE(c.ok());
  CHECK(c->flags == MS_BIND);
  CHECK(c->remount == 0);

  // The option makes a bind whatever the type says.
  c = plan_mount({"none", "/snap/3/fs", "", {"bind", "rw"}}, "/b/rootfs");
  REQUIRE(c.ok());
  CHECK(c->fstype.empty());
  CHECK(c->flags == MS_BIND);

  auto bad = plan_mount({"bind", "/snap/3/fs", "", {"rbind", "lowerdir=/x"}}, "/b/rootfs");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message().find("`lowerdir=/x`") != std::string::npos);
}

TEST_CASE("plan_mount: propagation is a second call") {
  auto c = plan_mount({"tmpfs", "tmpfs", "", {"rprivate", "size=1m"}}, "/r");
  REQUIRE(c.ok());
  CHECK(c->propagation == (MS_PRIVATE | MS_REC));
  CHECK(c->data == "size=1m");
  c = plan_mount({"tmpfs", "tmpfs", "", {"slave"}}, "/r");
  REQUIRE(c.ok());
  CHECK(c->propagation == MS_SLAVE);
}

TEST_CASE("plan_mount: targets below the rootfs") {
  auto c = plan_mount({"tmpfs", "tmpfs", "/var//cache/", {}}, "/b/rootfs");
  REQUIRE(c.ok());
  CHECK(c->target == "/b/rootfs/var/cache");
  c = plan_mount({"tmpfs", "tmpfs", "./x/./y", {}}, "/b/rootfs");
  REQUIRE(c.ok());
  CHECK(c->target == "/b/rootfs/x/y");
  auto bad = plan_mount({"tmpfs", "tmpfs", "x/../../etc", {}}, "/b/rootfs");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().err() == EINVAL);
}

TEST_CASE("plan_mount: what it refuses") {
  CHECK_FALSE(plan_mount({"", "overlay", "", {}}, "/r").ok());
  CHECK_FALSE(plan_mount({"overlay", "", "", {}}, "/r").ok());
  auto loop = plan_mount({"ext4", "/img.raw", "", {"loop"}}, "/r");
  REQUIRE_FALSE(loop.ok());
  CHECK(loop.error().message().find("`loop` is not supported") != std::string::npos);
  CHECK_FALSE(plan_mount({"ext4", "/dev/x", "", {"remount"}}, "/r").ok());
}

TEST_CASE("image_path and rootfs_path") {
  CHECK(overlay::image_path("/run/reaper", "c1") == "/run/reaper/image/c1");
  CHECK(overlay::image_path("/run/reaper/", "c1") == "/run/reaper/image/c1");
  CHECK(overlay::image_path("/", "c1") == "/image/c1");

  CHECK(*overlay::rootfs_path(spec_with_root(""), "/b") == "");
  CHECK(*overlay::rootfs_path(spec_with_root("rootfs"), "/b") == "/b/rootfs");
  CHECK(*overlay::rootfs_path(spec_with_root("./rootfs/"), "/b") == "/b/rootfs");
  CHECK(*overlay::rootfs_path(spec_with_root("/srv//img/"), "/b") == "/srv/img");
  CHECK_FALSE(overlay::rootfs_path(spec_with_root("../other"), "/b").ok());
  CHECK_FALSE(overlay::rootfs_path(spec_with_root("/"), "/b").ok());
}

TEST_CASE("find_image: a rootfs with content, and no image") {
  TempDir t;
  const std::string bundle = t.path + "/bundle";
  REQUIRE(::mkdir(bundle.c_str(), 0700) == 0);

  SUBCASE("no root.path") {
    auto img = overlay::find_image(spec_with_root(""), bundle, "/run/reaper", "c1");
    REQUIRE(img.ok());
    CHECK_FALSE(img->has_value());
  }
  SUBCASE("root.path missing") {
    auto img = overlay::find_image(spec_with_root("rootfs"), bundle, "/run/reaper", "c1");
    REQUIRE(img.ok());
    CHECK_FALSE(img->has_value());
  }
  SUBCASE("an empty directory") {
    REQUIRE(::mkdir((bundle + "/rootfs").c_str(), 0755) == 0);
    auto img = overlay::find_image(spec_with_root("rootfs"), bundle, "/run/reaper", "c1");
    REQUIRE(img.ok());
    CHECK_FALSE(img->has_value());
  }
  SUBCASE("a directory with a file") {
    REQUIRE(::mkdir((bundle + "/rootfs").c_str(), 0755) == 0);
    std::ofstream(bundle + "/rootfs/tool") << "x";
    auto img = overlay::find_image(spec_with_root("rootfs"), bundle, "/run/reaper", "c1");
    REQUIRE(img.ok());
    REQUIRE(img->has_value());
    CHECK((*img)->source == bundle + "/rootfs");
    CHECK((*img)->dest == "/run/reaper/image/c1");
  }
  SUBCASE("a symlink to a directory is resolved") {
    REQUIRE(::mkdir((t.path + "/real").c_str(), 0755) == 0);
    std::ofstream(t.path + "/real/tool") << "x";
    REQUIRE(::symlink((t.path + "/real").c_str(), (bundle + "/rootfs").c_str()) == 0);
    auto img = overlay::find_image(spec_with_root("rootfs"), bundle, "/r", "c2");
    REQUIRE(img.ok());
    REQUIRE(img->has_value());
    CHECK((*img)->source == t.path + "/real");
    CHECK((*img)->dest == "/r/image/c2");
  }
  SUBCASE("root.path is a file: an error") {
    std::ofstream(bundle + "/rootfs") << "x";
    auto img = overlay::find_image(spec_with_root("rootfs"), bundle, "/run/reaper", "c1");
    REQUIRE_FALSE(img.ok());
    CHECK(img.error().err() == ENOTDIR);
    CHECK(img.error().message().find(bundle + "/rootfs") != std::string::npos);
  }
}

TEST_CASE("set_image_env") {
  std::vector<std::string> env = {"PATH=/bin", "REAPER_IMAGE_ROOT=/elsewhere", "HOME=/root",
                                  "REAPER_IMAGE_ROOTS=kept"};
  overlay::set_image_env(env, "/run/reaper/image/c1");
  CHECK(env == std::vector<std::string>{"PATH=/bin", "HOME=/root", "REAPER_IMAGE_ROOTS=kept",
                                        "REAPER_IMAGE_ROOT=/run/reaper/image/c1"});
  std::vector<std::string> empty;
  overlay::set_image_env(empty, "/x");
  CHECK(empty == std::vector<std::string>{"REAPER_IMAGE_ROOT=/x"});
}

TEST_CASE("prepare_image_base and remove_image_dir") {
  TempDir t;
  REQUIRE(::chmod(t.path.c_str(), 0700) == 0);
  REQUIRE(overlay::prepare_image_base(t.path).ok());
  CHECK(mode_of(t.path) == 0711);  // searchable by workloads, not listable
  CHECK(mode_of(t.path + "/image") == 0711);
  REQUIRE(overlay::prepare_image_base(t.path).ok());  // again: nothing changes
  CHECK(mode_of(t.path) == 0711);

  REQUIRE(::mkdir((t.path + "/image/c1").c_str(), 0755) == 0);
  CHECK(overlay::remove_image_dir(t.path, "c1").ok());
  CHECK(::access((t.path + "/image/c1").c_str(), F_OK) != 0);
  CHECK(overlay::remove_image_dir(t.path, "c1").ok());  // idempotent
  CHECK(overlay::remove_image_dir(t.path + "/none", "c1").ok());
}

TEST_CASE("rootfs records: nothing to do, nothing mounted, malformed") {
  if (::geteuid() != 0) return;  // umount2 needs root to say "not a mount point"
  TempDir t;
  const std::string state = t.path + "/state";
  const std::string bundle = t.path + "/bundle";
  REQUIRE(::mkdir(state.c_str(), 0700) == 0);
  REQUIRE(::mkdir(bundle.c_str(), 0700) == 0);
  auto dir = fs::open_dir(state);
  REQUIRE(dir.ok());
  CHECK(runtime::release_rootfs(dir->get()).ok());  // no record

  // No mounts: nothing recorded, nothing made.
  auto none = runtime::mount_rootfs(dir->get(), spec_with_root("rootfs"), bundle, {});
  REQUIRE(none.ok());
  CHECK(::access((state + "/rootfs").c_str(), F_OK) != 0);
  CHECK(::access((bundle + "/rootfs").c_str(), F_OK) != 0);

  // A recorded target that is not (or no longer) a mount point.
  REQUIRE(::mkdir((bundle + "/rootfs").c_str(), 0755) == 0);
  REQUIRE(fs::write_file_atomic_at(dir->get(), "rootfs", bundle + "/rootfs\n").ok());
  CHECK(runtime::release_rootfs(dir->get()).ok());
  CHECK(::access((state + "/rootfs").c_str(), F_OK) != 0);  // the record went
  CHECK(runtime::release_rootfs(dir->get()).ok());          // idempotent

  REQUIRE(fs::write_file_atomic_at(dir->get(), "rootfs", "relative/path\n").ok());
  auto bad = runtime::release_rootfs(dir->get());
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message().find("not an absolute path") != std::string::npos);
  REQUIRE(::unlinkat(dir->get(), "rootfs", 0) == 0);

  // A mount that cannot be planned: refused before anything is recorded.
  auto refused = runtime::mount_rootfs(dir->get(), spec_with_root("rootfs"), bundle,
                                       {{"ext4", "/img", "", {"loop"}}});
  REQUIRE_FALSE(refused.ok());
  CHECK(::access((state + "/rootfs").c_str(), F_OK) != 0);

  // A mount that fails: the error names what, where and why; the record
  // stays for delete (nothing is mounted, so releasing it is a no-op).
  auto failed = runtime::mount_rootfs(dir->get(), spec_with_root("rootfs"), bundle,
                                      {{"bind", t.path + "/missing", "", {"rbind", "ro"}}});
  REQUIRE_FALSE(failed.ok());
  CHECK(failed.error().err() == ENOENT);
  CHECK(failed.error().message().find("rootfs: bind `" + t.path + "/missing` on `" + bundle +
                                      "/rootfs`") != std::string::npos);
  CHECK(runtime::release_rootfs(dir->get()).ok());
}

// Runs in a child with a private mount namespace, so that nothing it
// mounts can reach the host; returns the number of the first failed step.
static int bind_scenario(const std::string& base) {
  const std::string state = base + "/state";
  const std::string bundle = base + "/bundle";
  const std::string snap = base + "/snap";
  if (::unshare(CLONE_NEWNS) < 0 ||
      ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) < 0)
    return 1;
  for (const auto& d : {state, bundle, snap})
    if (::mkdir(d.c_str(), 0700) < 0) return 2;
  std::ofstream(snap + "/tool") << "x";
  auto dir = fs::open_dir(state);
  if (!dir) return 3;
  const std::vector<RootfsMount> mounts = {{"bind", snap, "", {"rbind", "ro"}}};
  {
    auto mounted = runtime::mount_rootfs(dir->get(), spec_with_root("rootfs"), bundle, mounts);
    if (!mounted || ::access((bundle + "/rootfs/tool").c_str(), F_OK) < 0) return 4;
    if (::open((bundle + "/rootfs/new").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644) >= 0 ||
        errno != EROFS)
      return 5;
  }  // not released: the guard unmounts
  if (::access((bundle + "/rootfs/tool").c_str(), F_OK) == 0) return 6;
  auto kept = runtime::mount_rootfs(dir->get(), spec_with_root("rootfs"), bundle, mounts);
  if (!kept) return 7;
  kept->release();
  if (::access((bundle + "/rootfs/tool").c_str(), F_OK) < 0) return 8;
  if (!runtime::release_rootfs(dir->get())) return 9;  // what delete does
  if (::access((bundle + "/rootfs/tool").c_str(), F_OK) == 0) return 10;
  return 0;
}

TEST_CASE("rootfs: a bind mounted read-only, unmounted by its guard or at release") {
  if (::geteuid() != 0) return;
  TempDir t;
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) ::_exit(bind_scenario(t.path));
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE("unmount_all: not a mount point, missing") {
  if (::geteuid() != 0) return;
  TempDir t;
  CHECK(runtime::unmount_all(t.path).ok());
  CHECK(runtime::unmount_all(t.path + "/missing").ok());
}
