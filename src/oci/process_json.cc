#include "oci/process_json.h"

#include "common/json.h"

namespace reaper::oci {

namespace {

void strings(JsonWriter& w, std::string_view key, const std::vector<std::string>& v) {
  w.key(key).begin_array();
  for (const auto& s : v) w.value(s);
  w.end_array();
}

}  // namespace

std::string to_json(const Process& p) {
  JsonWriter w;
  w.begin_object();
  w.key("terminal").value(p.terminal);
  if (p.console_size) {
    w.key("consoleSize").begin_object();
    w.key("height").value(p.console_size->height).key("width").value(p.console_size->width);
    w.end_object();
  }
  w.key("user").begin_object();
  w.key("uid").value(p.user.uid).key("gid").value(p.user.gid);
  if (p.user.umask) w.key("umask").value(*p.user.umask);
  w.key("additionalGids").begin_array();
  for (gid_t g : p.user.additional_gids) w.value(g);
  w.end_array().end_object();
  strings(w, "args", p.args);
  strings(w, "env", p.env);
  w.key("cwd").value(p.cwd);
  if (p.capabilities) {
    w.key("capabilities").begin_object();
    strings(w, "bounding", p.capabilities->bounding);
    strings(w, "effective", p.capabilities->effective);
    strings(w, "inheritable", p.capabilities->inheritable);
    strings(w, "permitted", p.capabilities->permitted);
    strings(w, "ambient", p.capabilities->ambient);
    w.end_object();
  }
  w.key("rlimits").begin_array();
  for (const auto& r : p.rlimits) {
    w.begin_object().key("type").value(r.type).key("hard").value(r.hard);
    w.key("soft").value(r.soft).end_object();
  }
  w.end_array();
  w.key("noNewPrivileges").value(p.no_new_privileges);
  if (p.oom_score_adj) w.key("oomScoreAdj").value(*p.oom_score_adj);
  w.end_object();
  return w.str();
}

}  // namespace reaper::oci
