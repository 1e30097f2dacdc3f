#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "bootstrap.pb.h"
#include "common/fs.h"
#include "shim/bootstrap.h"
#include "shim/flags.h"
#include "shim/socket_address.h"
#include "shim/unix_socket.h"
#include "wkt.pb.h"

using namespace reaper::shim;

namespace {

ShimFlags parse(std::vector<std::string_view> args) {
  return parse_flags(std::span<const std::string_view>(args));
}

}  // namespace

TEST_CASE("flags: containerd's start invocation") {
  auto f = parse({"-namespace", "k8s.io", "-address", "/run/containerd/containerd.sock",
                  "-publish-binary", "/usr/bin/containerd", "-id", "abc", "-debug", "start"});
  CHECK(f.ns == "k8s.io");
  CHECK(f.address == "/run/containerd/containerd.sock");
  CHECK(f.publish_binary == "/usr/bin/containerd");
  CHECK(f.id == "abc");
  CHECK(f.debug);
  CHECK(f.action == "start");
  CHECK(f.ignored.empty());
}

TEST_CASE("flags: -x=v, --x, --x=v, bool values, flags after the action") {
  auto f = parse({"--namespace=default", "-id=c1", "--bundle", "/b", "delete", "-debug=false",
                  "--address", "/a"});
  CHECK(f.ns == "default");
  CHECK(f.id == "c1");
  CHECK(f.bundle == "/b");
  CHECK(f.action == "delete");
  CHECK_FALSE(f.debug);
  CHECK(f.address == "/a");
  CHECK(parse({"--debug"}).debug);
  CHECK(parse({"-debug=1"}).debug);
  CHECK(parse({"-v"}).version);
  CHECK(parse({"--version"}).version);
  CHECK(parse({}).action.empty());
}

TEST_CASE("flags: unknown flags are skipped with their value, not with the action") {
  auto f =
      parse({"-socket-dir", "/x", "-id", "c", "-shiny", "start", "-other=1", "-flag2", "-id2"});
  CHECK(f.id == "c");
  CHECK(f.action == "start");
  CHECK(f.ignored ==
        std::vector<std::string>{"-socket-dir", "/x", "-shiny", "-other=1", "-flag2", "-id2"});
  auto g = parse({"-unknown", "delete"});
  CHECK(g.action == "delete");
  auto h = parse({"-id", "c", "start", "extra"});
  CHECK(h.action == "start");
  CHECK(h.ignored == std::vector<std::string>{"extra"});
}

TEST_CASE("flags: argv form") {
  std::string a0 = "-id", a1 = "x", a2 = "start";
  char* argv[] = {a0.data(), a1.data(), a2.data()};
  auto f = parse_flags(std::span<char* const>(argv, 3));
  CHECK(f.id == "x");
  CHECK(f.action == "start");
}

TEST_CASE("Go path.Clean") {
  CHECK(go_path_clean("") == ".");
  CHECK(go_path_clean("/") == "/");
  CHECK(go_path_clean("//a//b/") == "/a/b");
  CHECK(go_path_clean("a/./b/.") == "a/b");
  CHECK(go_path_clean("/a/b/../c") == "/a/c");
  CHECK(go_path_clean("/../a") == "/a");
  CHECK(go_path_clean("/..") == "/");
  CHECK(go_path_clean("a/../..") == "..");
  CHECK(go_path_clean("../../a/b/..") == "../../a");
  CHECK(go_path_clean("a/..") == ".");
  CHECK(go_path_clean("./") == ".");
  CHECK(go_path_clean("abc/def/../../..") == "..");
}

TEST_CASE("Go path.Join") {
  CHECK(go_path_join({"", ""}) == "");
  CHECK(go_path_join({"a", "", "b"}) == "a/b");
  CHECK(go_path_join({"/run/containerd/containerd.sock", "default", "abc"}) ==
        "/run/containerd/containerd.sock/default/abc");
  CHECK(go_path_join({"/a/", "/b/", "c/"}) == "/a/b/c");
  CHECK(go_path_join({"", "/x"}) == "/x");
  CHECK(go_path_join({"a", "../../b"}) == "../b");
}

TEST_CASE("socket path: hex SHA-256 of the joined address, namespace and group") {
  // printf %s '/run/containerd/containerd.sock/default/abc' | sha256sum
  CHECK(socket_path("/run/containerd/containerd.sock", "default", "abc") ==
        "/run/containerd/s/8cb244a719603fe00870d5ce1d8e1f1db43a654cb993d107df1f1ae23ddffa59");
  // The join cleans: a trailing slash or a doubled one hashes the same.
  CHECK(socket_path("/run/containerd//containerd.sock/", "default", "abc") ==
        socket_path("/run/containerd/containerd.sock", "default", "abc"));
  CHECK(socket_path("/run/containerd/containerd.sock", "k8s.io", "sandbox1", "/tmp/s/") ==
        "/tmp/s/203e2a8bcc43faffc0cfc248beea84ee3e46e9902d1260ec12c34ce928a2ad92");
  CHECK(socket_uri("/run/containerd/s/x") == "unix:///run/containerd/s/x");
  CHECK(std::string("unix:///run/containerd/s/").size() + 64 < 108);
}

TEST_CASE("group key: runc group annotation, then CRI sandbox id, then the id") {
  std::map<std::string, std::string, std::less<>> a;
  CHECK(group_key(a, "c1") == "c1");
  a["io.kubernetes.cri.sandbox-id"] = "pod";
  CHECK(group_key(a, "c1") == "pod");
  a["io.containerd.runc.v2.group"] = "grp";
  CHECK(group_key(a, "c1") == "grp");
  a["io.containerd.runc.v2.group"] = "";
  CHECK(group_key(a, "c1") == "pod");
}

TEST_CASE("config.json annotations") {
  auto a = parse_annotations(
      R"({"ociVersion":"1.0.2","annotations":{"io.kubernetes.cri.sandbox-id":"s1","x":"y"}})");
  REQUIRE(a.ok());
  CHECK(a->size() == 2);
  CHECK(a->at("io.kubernetes.cri.sandbox-id") == "s1");
  auto none = parse_annotations(R"({"ociVersion":"1.0.2"})");
  REQUIRE(none.ok());
  CHECK(none->empty());
  CHECK_FALSE(parse_annotations("{").ok());
  CHECK_FALSE(parse_annotations(R"({"annotations":{"a":1}})").ok());
  CHECK_FALSE(parse_annotations(R"({"annotations":[]})").ok());
}

TEST_CASE("start's stdin: BootstrapParams only when id and namespace match") {
  ShimFlags flags;
  flags.id = "c1";
  flags.ns = "default";

  auto legacy = decode_bootstrap("", flags, "/run/containerd/containerd.sock.ttrpc");
  CHECK_FALSE(legacy.bootstrap_params);
  CHECK(legacy.socket_dir == "/run/containerd/s");
  CHECK(legacy.ttrpc_address == "/run/containerd/containerd.sock.ttrpc");

  ::containerd::runtime::bootstrap::v1::BootstrapParams p;
  p.set_instance_id("c1");
  p.set_namespace_("default");
  p.set_containerd_ttrpc_address("unix:///x/ttrpc.sock");
  p.set_socket_dir("/var/run/shims");
  p.set_log_level(-4);
  auto modern = decode_bootstrap(p.SerializeAsString(), flags, "/env");
  CHECK(modern.bootstrap_params);
  CHECK(modern.socket_dir == "/var/run/shims");
  CHECK(modern.ttrpc_address == "unix:///x/ttrpc.sock");
  CHECK(modern.debug);

  p.set_instance_id("other");
  CHECK_FALSE(decode_bootstrap(p.SerializeAsString(), flags, "/env").bootstrap_params);

  // A runtime-options Any (1.6-2.2) also parses as BootstrapParams; the
  // identity check tells it apart.
  reaper::pb::Any any;
  any.set_type_url("containerd.runc.v1.Options");
  any.set_value(std::string("\x08\x01", 2));
  auto opts = decode_bootstrap(any.SerializeAsString(), flags, "/env");
  CHECK_FALSE(opts.bootstrap_params);
  CHECK(opts.ttrpc_address == "/env");
}

namespace {

struct TempBundle {
  TempBundle() {
    char tmpl[] = "/tmp/reaper-start-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    dir = tmpl;
    fd = reaper::UniqueFd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    REQUIRE(fd);
    REQUIRE(reaper::fs::write_file_atomic_at(
                fd.get(), "config.json",
                R"({"ociVersion":"1.0.2","annotations":{"io.kubernetes.cri.sandbox-id":"pod1"}})")
                .ok());
    devnull = reaper::UniqueFd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  }
  ~TempBundle() {
    std::string cmd = "rm -rf '" + dir + "'";
    CHECK(std::system(cmd.c_str()) == 0);
  }
  StartOptions options(const std::string& exe) const {
    StartOptions o;
    o.stdin_fd = devnull.get();
    o.bundle_fd = fd.get();
    o.self_exe = exe;
    o.socket_dir_override = dir + "/s";
    return o;
  }
  std::string dir;
  reaper::UniqueFd fd, devnull;
};

void reap_one_child() {
  int status = 0;
  CHECK(::waitpid(-1, &status, 0) > 0);
}

}  // namespace

TEST_CASE("start: binds, replaces a stale socket, reuses a live one, reports exec failures") {
  TempBundle b;
  ShimFlags flags;
  flags.id = "c1";
  flags.ns = "default";
  flags.address = "/run/containerd/containerd.sock";
  std::string expected = "unix://" + socket_path(flags.address, "default", "pod1", b.dir + "/s");

  // /bin/true stands in for the server: it exits at once, and our listening
  // fd closes when start returns, which leaves a stale socket behind.
  auto first = shim_start(flags, b.options("/bin/true"));
  REQUIRE_MESSAGE(first.ok(), first.error().what());
  reap_one_child();
  CHECK(*first == expected);
  auto written = reaper::fs::read_file_at(b.fd.get(), "address");
  REQUIRE(written.ok());
  CHECK(*written == expected);

  auto again = shim_start(flags, b.options("/bin/true"));  // stale: replaced
  REQUIRE_MESSAGE(again.ok(), again.error().what());
  reap_one_child();
  CHECK(*again == expected);

  {
    // A live listener there: reused, nothing spawned (the exe does not exist).
    std::string path = std::string(strip_unix_scheme(expected));
    ::unlink(path.c_str());
    auto live = listen_unix(path);
    REQUIRE(live.ok());
    flags.id = "c2";
    auto reused = shim_start(flags, b.options("/nonexistent/shim"));
    REQUIRE_MESSAGE(reused.ok(), reused.error().what());
    CHECK(*reused == expected);
  }

  // Now stale again, and the server cannot be executed: an error, not a hang.
  auto failed = shim_start(flags, b.options("/nonexistent/shim"));
  REQUIRE_FALSE(failed.ok());
  CHECK(failed.error().err() == ENOENT);
  CHECK(failed.error().what().find("start the shim server") != std::string::npos);

  flags.id.clear();
  CHECK_FALSE(shim_start(flags, b.options("/bin/true")).ok());
}

TEST_CASE("delete: an unknown container answers 137 and a time; a bad id is refused") {
  char root[] = "/tmp/reaper-shim-delete-XXXXXX";
  REQUIRE(::mkdtemp(root) != nullptr);
  std::string root_env = std::string("REAPER_RUNTIME_ROOT=") + root + "/state";
  std::string conf = std::string(root) + "/reaper.conf";
  reaper::UniqueFd(::open(conf.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
  std::string conf_env = "REAPER_CONFIG=" + conf;
  const char* envp[] = {root_env.c_str(), conf_env.c_str(), nullptr};
  ShimFlags flags;
  flags.id = "c1";
  auto r = shim_delete(flags, envp);
  REQUIRE(r.ok());
  CHECK(r->exit_status() == 137);
  CHECK(r->exited_at().seconds() > 1700000000);
  // Twice: still fine (containerd may run delete after a normal shutdown).
  CHECK(shim_delete(flags, envp).ok());

  flags.id = "../etc";
  auto bad = shim_delete(flags, envp);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().what().find("../etc") != std::string::npos);
  std::string cmd = std::string("rm -rf ") + root;
  CHECK(std::system(cmd.c_str()) == 0);
}
