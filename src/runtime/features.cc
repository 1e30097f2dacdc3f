// reaper-runtime features: what this runtime supports, in the shape of the
// OCI runtime features document.
#include "common/json.h"
#include "runtime/cli.h"

namespace reaper::cli {

int cmd_features(const Invocation& inv) {
  auto flags = Flags::parse(inv.args, {});
  if (!flags) return fail(inv, flags.error());
  JsonWriter w(2);
  w.begin_object();
  w.key("ociVersionMin").value("1.0.0").key("ociVersionMax").value("1.1.0");
  w.key("hooks").begin_array().end_array();
  w.key("mountOptions").begin_array();
  for (const char* o : {"bind", "rbind", "ro", "rw"}) w.value(o);
  w.end_array();
  w.key("linux").begin_object();
  w.key("namespaces").begin_array().value("mount").value("network").end_array();
  w.key("capabilities").begin_array().end_array();
  w.end_object();
  w.key("annotations").begin_object();
  w.key("org.opencontainers.runc.checkpoint.enabled").value("false");
  w.key("reaper.runtime/overlay").value("shared overlayfs per group");
  w.end_object();
  w.end_object();
  fmt::print("{}\n", w.str());
  return 0;
}

}  // namespace reaper::cli
