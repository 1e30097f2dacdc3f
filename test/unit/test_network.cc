// The pod network: REAPER_NETWORK, the reaper.runtime/network annotation,
// which namespace of the spec is joined, and the checks on the namespace
// file (network/network.h). Joining is covered by the integration test
// (test/integration/runtime/network.sh).

#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "common/config.h"
#include "network/network.h"
#include "oci/spec.h"

using namespace reaper;
using namespace reaper::network;

namespace {

using Annotations = std::map<std::string, std::string>;

const char* const no_env[] = {nullptr};

bool contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

oci::Spec spec_with(Annotations annotations, std::vector<oci::Namespace> namespaces) {
  oci::Spec s;
  s.annotations = std::move(annotations);
  s.namespaces = std::move(namespaces);
  return s;
}

// A temporary directory, removed with what the test put in it.
class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/reaper-network-test-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    dir_ = tmpl;
  }
  ~TempDir() {
    for (const auto& f : files_) ::unlink(f.c_str());
    ::rmdir(dir_.c_str());
  }
  std::string file(const std::string& name) {
    files_.push_back(dir_ + "/" + name);
    return files_.back();
  }

 private:
  std::string dir_;
  std::vector<std::string> files_;
};

}  // namespace

TEST_CASE("config: REAPER_NETWORK") {
  SUBCASE("default: the host's network, the annotation allowed") {
    auto c = parse_node_config("", "reaper.conf", no_env);
    REQUIRE(c.ok());
    CHECK(c->network_mode == NetworkMode::host);
    CHECK(c->annotation_allowed("network"));
  }
  SUBCASE("pod, any case") {
    auto c = parse_node_config("REAPER_NETWORK=Pod\n", "reaper.conf", no_env);
    REQUIRE_MESSAGE(c.ok(), c.error().what());
    CHECK(c->network_mode == NetworkMode::pod);
    CHECK(to_string(c->network_mode) == "pod");
  }
  SUBCASE("the environment wins over the file") {
    const char* const env[] = {"REAPER_NETWORK=host", nullptr};
    auto c = parse_node_config("REAPER_NETWORK=pod\n", "reaper.conf", env);
    REQUIRE(c.ok());
    CHECK(c->network_mode == NetworkMode::host);
  }
  SUBCASE("an invalid value names file and line") {
    auto c =
        parse_node_config("# node\nREAPER_NETWORK=bridge\n", "/etc/reaper/reaper.conf", no_env);
    REQUIRE_FALSE(c.ok());
    CHECK(c.error().what() ==
          "/etc/reaper/reaper.conf:2: REAPER_NETWORK: `bridge` is not a network mode (host|pod)");
  }
  SUBCASE("an invalid value in the environment") {
    const char* const env[] = {"REAPER_NETWORK=", nullptr};
    auto c = parse_node_config("", "reaper.conf", env);
    REQUIRE_FALSE(c.ok());
    CHECK(c.error().what() == "environment: REAPER_NETWORK: `` is not a network mode (host|pod)");
  }
  SUBCASE("set twice") {
    auto c = parse_node_config("REAPER_NETWORK=pod\nREAPER_NETWORK=host\n", "r.conf", no_env);
    REQUIRE_FALSE(c.ok());
    CHECK(c.error().what() == "r.conf:2: `REAPER_NETWORK` is already set on line 1");
  }
  SUBCASE("the allowlist knows the annotation") {
    auto c = parse_node_config("REAPER_ANNOTATIONS_ALLOWLIST=reaper.runtime/network\n", "r.conf",
                               no_env);
    REQUIRE_MESSAGE(c.ok(), c.error().what());
    CHECK(c->annotation_allowed("network"));
    CHECK_FALSE(c->annotation_allowed("dns-mode"));
  }
}

TEST_CASE("mode_for: the annotation where allowed, else the node's mode") {
  NodeConfig cfg;
  CHECK(*mode_for(cfg, {}) == NetworkMode::host);
  CHECK(*mode_for(cfg, {{"reaper.runtime/network", "pod"}}) == NetworkMode::pod);
  CHECK(*mode_for(cfg, {{"reaper.runtime/network", "POD"}}) == NetworkMode::pod);
  CHECK(*mode_for(cfg, {{"reaper.runtime/network", "host"}}) == NetworkMode::host);
  CHECK(*mode_for(cfg, {{"reaper.runtime/network", ""}}) == NetworkMode::host);  // unset

  SUBCASE("unknown values are errors") {
    for (const char* v : {"bridge", "none", "pod ", "hostNetwork"}) {
      auto m = mode_for(cfg, {{"reaper.runtime/network", v}});
      REQUIRE_FALSE(m.ok());
      CHECK(m.error().what() ==
            fmt::format("annotation reaper.runtime/network: `{}` is not a network mode (host|pod)",
                        v));
    }
  }
  SUBCASE("the node's default") {
    cfg.network_mode = NetworkMode::pod;
    CHECK(*mode_for(cfg, {}) == NetworkMode::pod);
    CHECK(*mode_for(cfg, {{"reaper.runtime/network", "host"}}) == NetworkMode::host);
  }
  SUBCASE("ignored, invalid or not, when not in the allowlist") {
    cfg.annotations_allowlist = {"dns-mode"};
    CHECK(*mode_for(cfg, {{"reaper.runtime/network", "pod"}}) == NetworkMode::host);
    CHECK(*mode_for(cfg, {{"reaper.runtime/network", "bridge"}}) == NetworkMode::host);
    cfg.network_mode = NetworkMode::pod;
    CHECK(*mode_for(cfg, {{"reaper.runtime/network", "host"}}) == NetworkMode::pod);
  }
  SUBCASE("ignored when annotations are disabled") {
    cfg.annotations_enabled = false;
    CHECK(*mode_for(cfg, {{"reaper.runtime/network", "pod"}}) == NetworkMode::host);
  }
}

TEST_CASE("netns_path_for: the spec's network namespace in pod mode") {
  NodeConfig cfg;
  const Annotations pod{{"reaper.runtime/network", "pod"}};
  const std::vector<oci::Namespace> cri{
      {"mount", ""}, {"network", "/var/run/netns/cni-1234"}, {"ipc", "/proc/9/ns/ipc"}};

  SUBCASE("host mode ignores the spec's namespaces") {
    auto p = netns_path_for(cfg, spec_with({}, cri));
    REQUIRE(p.ok());
    CHECK(p->empty());
  }
  SUBCASE("pod mode: the network entry's path") {
    auto p = netns_path_for(cfg, spec_with(pod, cri));
    REQUIRE_MESSAGE(p.ok(), p.error().what());
    CHECK(*p == "/var/run/netns/cni-1234");
  }
  SUBCASE("pod mode without a network entry (a hostNetwork pod)") {
    auto p = netns_path_for(cfg, spec_with(pod, {{"mount", ""}, {"ipc", "/proc/9/ns/ipc"}}));
    REQUIRE_FALSE(p.ok());
    CHECK(contains(p.error().what(), "network mode `pod` (annotation reaper.runtime/network)"));
    CHECK(contains(p.error().what(), "linux.namespaces has no `network` entry"));
  }
  SUBCASE("pod mode with a network entry without a path") {
    auto p = netns_path_for(cfg, spec_with(pod, {{"network", ""}}));
    REQUIRE_FALSE(p.ok());
    CHECK(contains(p.error().what(), "the `network` entry of linux.namespaces has no path"));
  }
  SUBCASE("pod mode from the node: the error says so") {
    cfg.network_mode = NetworkMode::pod;
    auto p = netns_path_for(cfg, spec_with({}, {}));
    REQUIRE_FALSE(p.ok());
    CHECK(contains(p.error().what(), "network mode `pod` (REAPER_NETWORK)"));
    auto host = netns_path_for(cfg, spec_with({{"reaper.runtime/network", "host"}}, {}));
    REQUIRE(host.ok());
    CHECK(host->empty());
  }
  SUBCASE("an invalid annotation is an error even without namespaces") {
    auto p = netns_path_for(cfg, spec_with({{"reaper.runtime/network", "bridge"}}, cri));
    REQUIRE_FALSE(p.ok());
    CHECK(contains(p.error().what(), "`bridge` is not a network mode"));
  }
}

TEST_CASE("spec_netns_path: whatever the mode") {
  CHECK(spec_netns_path(spec_with({}, {{"network", "/run/netns/a"}})) == "/run/netns/a");
  CHECK(spec_netns_path(spec_with({}, {{"mount", "/proc/1/ns/mnt"}, {"network", ""}})).empty());
  CHECK(spec_netns_path(spec_with({}, {{"ipc", "/proc/1/ns/ipc"}})).empty());
}

TEST_CASE("netns_path_for: from a parsed config.json") {
  auto spec = oci::parse_spec(R"({
    "ociVersion": "1.0.2",
    "annotations": {"reaper.runtime/network": "pod"},
    "linux": {"namespaces": [{"type": "pid"}, {"type": "network", "path": "/run/netns/p1"}]}
  })",
                              "config.json");
  REQUIRE_MESSAGE(spec.ok(), spec.error().what());
  auto p = netns_path_for(NodeConfig{}, *spec);
  REQUIRE(p.ok());
  CHECK(*p == "/run/netns/p1");
}

TEST_CASE("open_netns: only a network namespace file") {
  SUBCASE("this process's network namespace") {
    auto fd = open_netns("/proc/self/ns/net");
    REQUIRE_MESSAGE(fd.ok(), fd.error().what());
    CHECK(fd->valid());
  }
  SUBCASE("open_pod_netns refuses the caller's own (the host's)") {
    auto fd = open_pod_netns("/proc/self/ns/net");
    REQUIRE_FALSE(fd.ok());
    CHECK(fd.error().what() ==
          "network namespace `/proc/self/ns/net`: is the one reaper runs in (the host's), not a "
          "pod's: the workload would use the host's network");
  }
  SUBCASE("missing") {
    auto fd = open_netns("/run/netns/reaper-unit-test-no-such-namespace");
    REQUIRE_FALSE(fd.ok());
    CHECK(fd.error().err() == ENOENT);
    CHECK(fd.error().what() ==
          "network namespace `/run/netns/reaper-unit-test-no-such-namespace`: No such file or "
          "directory");
  }
  SUBCASE("another kind of namespace") {
    auto fd = open_netns("/proc/self/ns/mnt");
    REQUIRE_FALSE(fd.ok());
    CHECK(fd.error().what() ==
          "network namespace `/proc/self/ns/mnt`: is a mount namespace, not a network namespace");
  }
  SUBCASE("a regular file, a directory, a FIFO (never opened for reading)") {
    TempDir dir;
    std::string file = dir.file("file");
    int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    REQUIRE(fd >= 0);
    ::close(fd);
    std::string fifo = dir.file("fifo");
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    for (const std::string& path : {file, fifo, std::string("/proc/self/ns")}) {
      auto r = open_netns(path);
      REQUIRE_FALSE(r.ok());
      CHECK(contains(r.error().what(),
                     fmt::format("network namespace `{}`: not a namespace file", path)));
    }
  }
}
