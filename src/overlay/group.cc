// Which overlay group a container belongs to, and where a group lives.

#include <cctype>

#include "overlay/internal.h"

namespace reaper::overlay {

namespace {

// RFC 1123 label, as Kubernetes namespaces are: [a-z0-9]([-a-z0-9]*[a-z0-9])?, <= 63.
Status validate_label(std::string_view s, std::string_view what) {
  if (s.empty()) return make_error("{} is empty", what);
  if (s.size() > 63) return make_error("{} `{}` is longer than 63 characters", what, s);
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
    if (!ok)
      return make_error("{} `{}` is not a DNS label (lowercase letters, digits and `-`)", what, s);
  }
  if (s.front() == '-' || s.back() == '-')
    return make_error("{} `{}` is not a DNS label (it must start and end with a letter or digit)",
                      what, s);
  return {};
}

std::string_view annotation(const std::map<std::string, std::string>& a, std::string_view key) {
  auto it = a.find(std::string(key));
  return it == a.end() ? std::string_view() : std::string_view(it->second);
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

Status validate_group(std::string_view group) {
  if (group == node_group) return {};
  auto dot = group.find('.');
  bool ok = dot == std::string_view::npos ? validate_label(group, "").ok()
                                          : validate_label(group.substr(0, dot), "").ok() &&
                                                validate_label(group.substr(dot + 1), "").ok();
  if (!ok)
    return make_error(
        "`{}` is not an overlay group (<namespace>, <namespace>.<overlay-name> or _node)", group);
  return {};
}

Result<std::string> group_for(const NodeConfig& cfg,
                              const std::map<std::string, std::string>& annotations,
                              std::string_view cli_namespace, std::string_view fallback_namespace) {
  if (!cfg.overlay_enabled) return std::string();
  if (cfg.overlay_isolation == OverlayIsolation::per_node) return std::string(node_group);

  std::string_view ns = annotation(annotations, namespace_annotation);
  if (!cli_namespace.empty()) {
    if (ns.empty()) {
      ns = cli_namespace;
    } else if (ns != cli_namespace) {
      return make_error("namespace `{}` of annotation {} differs from --namespace `{}`", ns,
                        namespace_annotation, cli_namespace);
    }
  }
  if (ns.empty()) ns = fallback_namespace;
  if (ns.empty())
    return make_error(
        "overlay isolation is `namespace` but the container has no Kubernetes namespace "
        "(annotation {} or --namespace); set REAPER_OVERLAY_ISOLATION=node to share one "
        "overlay per node",
        namespace_annotation);
  REAPER_TRY(validate_label(ns, "namespace"));

  std::string group(ns);
  if (cfg.annotation_allowed("overlay-name")) {
    std::string name = lower(annotation(annotations, overlay_name_annotation));
    if (!name.empty()) {
      REAPER_TRY_CTX(validate_label(name, "overlay name"), "annotation {}",
                     overlay_name_annotation);
      group += '.';
      group += name;
    }
  }
  return group;
}

Result<DnsMode> dns_mode_for(const NodeConfig& cfg,
                             const std::map<std::string, std::string>& annotations) {
  if (cfg.annotation_allowed("dns-mode")) {
    std::string v = lower(annotation(annotations, dns_mode_annotation));
    if (v == "host") return DnsMode::host;
    if (v == "kubernetes" || v == "k8s") return DnsMode::kubernetes;
    if (!v.empty())
      return make_error("annotation {}: `{}` is not a DNS mode (host|kubernetes)",
                        dns_mode_annotation, v);
  }
  return cfg.dns_mode;
}

GroupPaths paths_for(const NodeConfig& cfg, const std::string& group) {
  GroupPaths p;
  std::string base = cfg.overlay_base_dir();
  std::string ns = cfg.ns_dir();
  p.group = group;
  p.dir = base + "/" + group;
  p.upper = p.dir + "/upper";
  p.work = p.dir + "/work";
  p.merged = p.dir + "/merged";
  p.mask = p.dir + "/mask";
  p.ns_file = ns + "/" + group;
  p.lock_file = ns + "/.locks/" + group;
  p.users_dir = ns + "/.users";
  p.anchor_file = ns + "/.anchors/" + group;
  return p;
}

}  // namespace reaper::overlay
