// src/common/fs: the file helpers every record and directory goes through.

#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "common/fd_passing.h"
#include "common/fs.h"

using namespace reaper;

namespace {

struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/reaper-unit-fs-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    path = tmpl;
  }
  ~TempDir() { (void)std::system(("rm -rf '" + path + "'").c_str()); }
};

bool is_dir(const std::string& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

}  // namespace

TEST_CASE("mkdir_p: existing, missing parents, a file in the way") {
  TempDir t;
  // Exists already: fine, nothing changes.
  CHECK(fs::mkdir_p(t.path, 0700).ok());
  // Several missing levels are made top down.
  std::string deep = t.path + "/a/b/c";
  REQUIRE(fs::mkdir_p(deep, 0700).ok());
  CHECK(is_dir(t.path + "/a"));
  CHECK(is_dir(deep));
  CHECK(fs::mkdir_p(deep, 0700).ok());
  // A regular file where a directory should be: refused, with its name.
  int fd = ::open((t.path + "/f").c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  REQUIRE(fd >= 0);
  ::close(fd);
  auto st = fs::mkdir_p(t.path + "/f", 0700);
  REQUIRE_FALSE(st.ok());
  CHECK(std::string(st.error().what()).find("not a directory") != std::string::npos);
  // ... and as a parent.
  st = fs::mkdir_p(t.path + "/f/g/h", 0700);
  REQUIRE_FALSE(st.ok());
  CHECK(std::string(st.error().what()).find(t.path + "/f") != std::string::npos);
  CHECK_FALSE(fs::mkdir_p("", 0700).ok());
}

TEST_CASE("path_components and normalize_absolute") {
  using V = std::vector<std::string_view>;
  CHECK(fs::path_components("//a/./b/") == V{"a", ".", "b"});
  CHECK(fs::path_components("") == V{});
  CHECK(fs::path_components("rel/x") == V{"rel", "x"});
  CHECK(fs::split_nonempty(" a  b ", ' ') == V{"a", "b"});

  CHECK(*fs::normalize_absolute("/") == "/");
  CHECK(*fs::normalize_absolute("///") == "/");
  CHECK(*fs::normalize_absolute("/a//b/") == "/a/b");
  auto rel = fs::normalize_absolute("a/b", "source");
  REQUIRE_FALSE(rel.ok());
  CHECK(std::string(rel.error().what()) == "source `a/b` is not an absolute path");
  auto dots = fs::normalize_absolute("/a/../etc");
  REQUIRE_FALSE(dots.ok());
  CHECK(std::string(dots.error().what()) == "`/a/../etc`: `.` and `..` are not allowed");
  CHECK_FALSE(fs::normalize_absolute("/a/./b").ok());
  CHECK_FALSE(fs::normalize_absolute("").ok());
}

TEST_CASE("fd passing: data and fds in one message, limits, the peer gone") {
  int sp[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) == 0);
  UniqueFd a(sp[0]);
  UniqueFd b(sp[1]);
  int p[2];
  REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
  UniqueFd rd(p[0]);
  UniqueFd wr(p[1]);

  SUBCASE("received fds are new, close-on-exec, and the same files") {
    int fds[] = {rd.get(), wr.get()};
    REQUIRE(send_with_fds(a.get(), "two", fds).ok());
    auto got = receive_with_fds(b.get(), 16);
    REQUIRE(got.ok());
    CHECK(got->data == "two");
    REQUIRE(got->fds.size() == 2);
    CHECK(got->fds[0].get() != rd.get());
    CHECK((::fcntl(got->fds[1].get(), F_GETFD) & FD_CLOEXEC) != 0);
    REQUIRE(::write(got->fds[1].get(), "x", 1) == 1);
    char c = 0;
    REQUIRE(::read(rd.get(), &c, 1) == 1);
    CHECK(c == 'x');
  }
  SUBCASE("a message longer than asked for is refused") {
    REQUIRE(send_with_fds(a.get(), "0123456789", {}).ok());
    auto got = receive_with_fds(b.get(), 4);
    REQUIRE_FALSE(got.ok());
    CHECK(got.error().what() == "message longer than 4 bytes");
  }
  SUBCASE("no data, or too many fds, is not sent") {
    CHECK_FALSE(send_with_fds(a.get(), "", {}).ok());
    std::vector<int> many(max_passed_fds + 1, rd.get());
    auto st = send_with_fds(a.get(), "many", many);
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().err() == EINVAL);
  }
  SUBCASE("the peer closed: empty data, no error; sending to it: EPIPE, no SIGPIPE") {
    a.reset();
    auto got = receive_with_fds(b.get(), 16);
    REQUIRE(got.ok());
    CHECK(got->data.empty());
    int sp2[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp2) == 0);
    UniqueFd c(sp2[0]);
    ::close(sp2[1]);
    auto st = send_with_fds(c.get(), "late", {});
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().err() == EPIPE);
  }
}
