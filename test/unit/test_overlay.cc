// Unit tests of the overlay code that need no mounts: groups, names, the
// masking list, password sanitizing, the users file. The real-mount tests are
// in test/integration/overlay/.

#include <doctest/doctest.h>

#include <algorithm>

#include "overlay/internal.h"
#include "overlay/kernel.h"

using namespace reaper;
using namespace reaper::overlay;

namespace {

using Annotations = std::map<std::string, std::string>;

}  // namespace

TEST_CASE("group_for: namespace mode") {
  NodeConfig cfg;
  SUBCASE("from containerd's annotation") {
    auto g = group_for(cfg, {{"io.kubernetes.cri.sandbox-namespace", "team-a"}}, "");
    REQUIRE(g.ok());
    CHECK(*g == "team-a");
  }
  SUBCASE("from --namespace") {
    auto g = group_for(cfg, {}, "default");
    REQUIRE(g.ok());
    CHECK(*g == "default");
  }
  SUBCASE("both, agreeing") {
    auto g = group_for(cfg, {{"io.kubernetes.cri.sandbox-namespace", "x"}}, "x");
    REQUIRE(g.ok());
    CHECK(*g == "x");
  }
  SUBCASE("both, disagreeing") {
    auto g = group_for(cfg, {{"io.kubernetes.cri.sandbox-namespace", "x"}}, "y");
    REQUIRE_FALSE(g.ok());
    CHECK(g.error().what().find("differs from --namespace `y`") != std::string::npos);
  }
  SUBCASE("no namespace is refused") {
    auto g = group_for(cfg, {{"io.kubernetes.pod.namespace", "spoofable"}}, "");
    REQUIRE_FALSE(g.ok());
    CHECK(g.error().what().find("no Kubernetes namespace") != std::string::npos);
  }
  SUBCASE("names must be DNS labels") {
    for (const char* bad : {"Team", "a/b", "..", "a.b", "-a", "a-", "a_b"}) {
      CAPTURE(bad);
      CHECK_FALSE(group_for(cfg, {}, bad).ok());
    }
    CHECK_FALSE(group_for(cfg, {}, std::string(64, 'a')).ok());
    CHECK(group_for(cfg, {}, std::string(63, 'a')).ok());
  }
}

TEST_CASE("group_for: overlay-name annotation") {
  NodeConfig cfg;
  Annotations a{{"io.kubernetes.cri.sandbox-namespace", "ns1"},
                {"reaper.runtime/overlay-name", "Build-Cache"}};
  SUBCASE("honoured (lowercased) when allowed") {
    auto g = group_for(cfg, a, "");
    REQUIRE(g.ok());
    CHECK(*g == "ns1.build-cache");
  }
  SUBCASE("ignored when annotations are disabled") {
    cfg.annotations_enabled = false;
    auto g = group_for(cfg, a, "");
    REQUIRE(g.ok());
    CHECK(*g == "ns1");
  }
  SUBCASE("ignored when not in the allowlist") {
    cfg.annotations_allowlist = {"dns-mode"};
    auto g = group_for(cfg, a, "");
    REQUIRE(g.ok());
    CHECK(*g == "ns1");
  }
  SUBCASE("empty means unset") {
    a["reaper.runtime/overlay-name"] = "";
    auto g = group_for(cfg, a, "");
    REQUIRE(g.ok());
    CHECK(*g == "ns1");
  }
  SUBCASE("invalid names are refused") {
    a["reaper.runtime/overlay-name"] = "../../etc";
    auto g = group_for(cfg, a, "");
    REQUIRE_FALSE(g.ok());
    CHECK(g.error().what().find("annotation reaper.runtime/overlay-name") != std::string::npos);
  }
}

TEST_CASE("group_for: node mode and disabled overlay") {
  NodeConfig cfg;
  cfg.overlay_isolation = OverlayIsolation::per_node;
  auto g = group_for(cfg, {{"reaper.runtime/overlay-name", "x"}}, "");
  REQUIRE(g.ok());
  CHECK(*g == "_node");
  cfg.overlay_enabled = false;
  g = group_for(cfg, {}, "");
  REQUIRE(g.ok());
  CHECK(g->empty());
}

TEST_CASE("validate_group") {
  for (const char* ok : {"default", "_node", "a.b", "kube-system.x1"}) {
    CAPTURE(ok);
    CHECK(validate_group(ok).ok());
  }
  for (const char* bad : {"", ".", "..", "a.b.c", "a/b", "_other", ".locks", "a.", ".a", "A"}) {
    CAPTURE(bad);
    CHECK_FALSE(validate_group(bad).ok());
  }
}

TEST_CASE("dns_mode_for") {
  NodeConfig cfg;
  CHECK(*dns_mode_for(cfg, {}) == DnsMode::host);
  CHECK(*dns_mode_for(cfg, {{"reaper.runtime/dns-mode", "Kubernetes"}}) == DnsMode::kubernetes);
  CHECK(*dns_mode_for(cfg, {{"reaper.runtime/dns-mode", "k8s"}}) == DnsMode::kubernetes);
  CHECK_FALSE(dns_mode_for(cfg, {{"reaper.runtime/dns-mode", "coredns"}}).ok());
  cfg.dns_mode = DnsMode::kubernetes;
  CHECK(*dns_mode_for(cfg, {{"reaper.runtime/dns-mode", "host"}}) == DnsMode::host);
  cfg.annotations_enabled = false;
  CHECK(*dns_mode_for(cfg, {{"reaper.runtime/dns-mode", "host"}}) == DnsMode::kubernetes);
}

TEST_CASE("paths of a group") {
  NodeConfig cfg;
  cfg.state_root = "/run/r";
  auto p = paths_for(cfg, "ns.x");
  CHECK(p.upper == "/run/r/overlay/ns.x/upper");
  CHECK(p.merged == "/run/r/overlay/ns.x/merged");
  CHECK(p.ns_file == "/run/r/ns/ns.x");
  CHECK(p.lock_file == "/run/r/ns/.locks/ns.x");
  CHECK(p.anchor_file == "/run/r/ns/.anchors/ns.x");
}

TEST_CASE("sanitize_password_database") {
  std::string in =
      "root:$y$j9T$abc$def:19000:0:99999:7:::\n"
      "daemon:*:19000:0:99999:7:::\n"
      "nohash\n"
      "# comment\n"
      "short:secret\n"
      "\n"
      "last:!locked:1";
  CHECK(sanitize_password_database(in) ==
        "root:!:19000:0:99999:7:::\n"
        "daemon:!:19000:0:99999:7:::\n"
        "# comment\n"
        "short:!\n"
        "\n"
        "last:!:1");
}

TEST_CASE("plan_masks: modes and allowlist") {
  NodeConfig cfg;
  cfg.filter_paths = {"/opt/secret", "/root/.ssh"};
  cfg.filter_allowlist = {"/etc/sudoers", "/etc/shadow", "/etc/gshadow", "/etc/shadow-",
                          "/etc/gshadow-"};
  auto plan = plan_masks(cfg);
  REQUIRE(plan.ok());
  auto has = [&](const std::string& p) {
    return std::find(plan->paths.begin(), plan->paths.end(), p) != plan->paths.end();
  };
  CHECK(has("/root/.ssh"));
  CHECK(has("/opt/secret"));
  CHECK(has("/var/lib/kubelet/pki"));
  CHECK(has("/etc/kubernetes/admin.conf"));
  CHECK_FALSE(has("/etc/sudoers"));
  CHECK(plan->sanitized.empty());
  CHECK(std::count(plan->paths.begin(), plan->paths.end(), "/root/.ssh") == 1);

  cfg.filter_mode = FilterMode::replace;
  plan = plan_masks(cfg);
  REQUIRE(plan.ok());
  CHECK(plan->paths == std::vector<std::string>{"/opt/secret", "/root/.ssh"});

  cfg.filter_enabled = false;
  plan = plan_masks(cfg);
  REQUIRE(plan.ok());
  CHECK(plan->paths.empty());
}

TEST_CASE("users file round trip") {
  std::vector<UserEntry> users(2);
  users[0].container_id = "abc";
  users[0].pid = 42;
  users[0].start_time = 123456;
  users[0].ns_inode = 4026532000;
  users[0].mounts = {{"/data", 7}, {"/odd dir/with=%", 9}};
  users[1].container_id = "def";
  users[1].pid = 43;
  std::string text = format_users(users);
  auto back = parse_users(text, "test");
  REQUIRE_MESSAGE(back.ok(), back.error().what());
  REQUIRE(back->size() == 2);
  CHECK((*back)[0].container_id == "abc");
  CHECK((*back)[0].pid == 42);
  CHECK((*back)[0].start_time == 123456);
  CHECK((*back)[0].ns_inode == 4026532000);
  REQUIRE((*back)[0].mounts.size() == 2);
  CHECK((*back)[0].mounts[1].dest == "/odd dir/with=%");
  CHECK((*back)[0].mounts[1].mount_id == 9);
  CHECK((*back)[1].mounts.empty());

  CHECK_FALSE(parse_users("garbage\n", "t").ok());
  CHECK_FALSE(parse_users("reaper-overlay-users 1\nabc x 1 2\n", "t").ok());
  CHECK_FALSE(parse_users("reaper-overlay-users 1\nabc 1 1 2 5=%zz\n", "t").ok());
}

TEST_CASE("is_volume") {
  oci::Mount m;
  m.destination = "/data";
  m.source = "/x";
  m.options = {"rbind", "ro"};
  CHECK(is_volume(m));
  m.options = {"ro"};
  CHECK_FALSE(is_volume(m));
  m.type = "bind";
  CHECK(is_volume(m));
  for (const char* skipped :
       {"/proc", "/proc/sys", "/sys/fs/cgroup", "/dev/shm", "/etc/hosts", "/etc/hostname",
        "/etc/resolv.conf", "/dev/termination-log", "//etc//resolv.conf"}) {
    CAPTURE(skipped);
    m.destination = skipped;
    CHECK_FALSE(is_volume(m));
  }
  m.destination = "/processes";
  CHECK(is_volume(m));
}

TEST_CASE("path helpers") {
  CHECK(kernel::path_within("/run/reaper", "/run"));
  CHECK(kernel::path_within("/run", "/run"));
  CHECK_FALSE(kernel::path_within("/running", "/run"));
  CHECK(kernel::path_within("/x", "/"));
  CHECK(kernel::split_path("/etc/shadow") == std::pair<std::string, std::string>{"/etc", "shadow"});
  CHECK(kernel::split_path("/x") == std::pair<std::string, std::string>{"/", "x"});
}

TEST_CASE("release without any group state is a no-op") {
  NodeConfig cfg;
  cfg.state_root = "/nonexistent/reaper-root";
  CHECK(release(cfg, "g", "c").ok());
  CHECK(release(cfg, "", "c").ok());
  CHECK_FALSE(release(cfg, "../x", "c").ok());
}
