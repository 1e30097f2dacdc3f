#include "runtime/pod_network.h"

#include "network/network.h"

namespace reaper::runtime {

Result<std::string> pod_netns_for(const Context& ctx, const oci::Spec& spec) {
  std::string path = REAPER_TRY(network::netns_path_for(ctx.config, spec));
  if (path != fmt::format("/proc/{}/ns/net", sandbox_pid)) return path;
  auto it = spec.annotations.find(std::string(sandbox_id_annotation));
  if (it == spec.annotations.end() || it->second.empty()) return path;
  auto sandbox = get_state(ctx, it->second);
  if (!sandbox.ok() || !sandbox->record.sandbox) return path;
  if (sandbox->record.netns.empty())
    return make_error(
        "network mode `pod`: linux.namespaces names the network namespace of pod sandbox `{}` "
        "({}), which has none of its own (its spec named no network namespace path: a "
        "hostNetwork pod?)",
        it->second, path);
  return sandbox->record.netns;
}

}  // namespace reaper::runtime
