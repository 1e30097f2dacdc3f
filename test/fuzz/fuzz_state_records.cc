// Fuzz target for what monitors leave in the state directory and say on
// their control sockets, which every later CLI call and the shim read back:
// state.json (ProcessRecord), exit.json (ExitRecord), the overlay's users
// files, and control replies. The first byte picks the mode:
//   0: the rest is a state.json / exit.json text: parsed values must be the
//      values in the text (nothing silently truncated to fit a field);
//   1: a record built from the input is written and read back: it must
//      parse, and be equal where its strings are valid UTF-8;
//   2: a users file: what parses is written and parses back the same;
//   3: a monitor control reply.
// Seeds: test/fuzz/corpus/state_records/.

#include <fuzzer/FuzzedDataProvider.h>
#include <simdjson.h>

#include "fuzz_support.h"
#include "monitor/control.h"
#include "overlay/internal.h"
#include "state/record.h"

using reaper::fuzz::check;
namespace state = reaper::state;

namespace {

bool utf8(const std::string& s) {
  return simdjson::validate_utf8(s.data(), s.size());
}

// A number the text holds for `key`, as the record must have read it.
template <typename T>
void check_number(simdjson::dom::object obj, const char* key, T parsed) {
  int64_t i = 0;
  uint64_t u = 0;
  if (obj[key].get(i) == simdjson::SUCCESS) {
    check(static_cast<int64_t>(parsed) == i && (i >= 0 || std::is_signed_v<T>));
  } else if (obj[key].get(u) == simdjson::SUCCESS) {
    check(static_cast<uint64_t>(parsed) == u && !std::is_signed_v<T>);
  }
}

void parse_text(std::string_view text) {
  simdjson::dom::parser parser;
  simdjson::dom::object obj;
  bool is_object = parser.parse(text.data(), text.size()).get(obj) == simdjson::SUCCESS;
  if (auto r = state::parse_process_record(text, "state.json")) {
    check(is_object && !r->id.empty());
    check_number(obj, "pid", r->pid);
    check_number(obj, "monitor_pid", r->monitor_pid);
    check_number(obj, "monitor_start", r->monitor_start);
    check_number(obj, "created_ns", r->created_ns);
    auto again = state::parse_process_record(state::to_json(*r), "again");
    check(again.ok() && again->id == r->id && again->pid == r->pid);
  } else {
    check(r.error().message().starts_with("state.json: "));
  }
  if (auto r = state::parse_exit_record(text, "exit.json")) {
    check(is_object);
    check_number(obj, "status", r->status);
    check_number(obj, "exited_ns", r->exited_ns);
    (void)state::format_rfc3339(r->exited_ns);  // what `state` prints
  } else {
    check(r.error().message().starts_with("exit.json: "));
  }
}

void round_trip(FuzzedDataProvider& in) {
  state::ProcessRecord r;
  r.id = in.ConsumeRandomLengthString(300);
  r.exec_id = in.ConsumeRandomLengthString(300);
  r.bundle = in.ConsumeRandomLengthString(300);
  r.pid = in.ConsumeIntegral<pid_t>();
  r.monitor_pid = in.ConsumeIntegral<pid_t>();
  r.monitor_start = in.ConsumeIntegral<uint64_t>();
  r.created_ns = in.ConsumeIntegral<int64_t>();
  r.terminal = in.ConsumeBool();
  r.sandbox = in.ConsumeBool();
  r.stdin_path = in.ConsumeRandomLengthString(300);
  r.stdout_path = in.ConsumeRandomLengthString(300);
  r.stderr_path = in.ConsumeRandomLengthString(300);
  r.overlay_group = in.ConsumeRandomLengthString(300);
  bool all_utf8 = utf8(r.id) && utf8(r.exec_id) && utf8(r.bundle) && utf8(r.stdin_path) &&
                  utf8(r.stdout_path) && utf8(r.stderr_path) && utf8(r.overlay_group);
  for (int i = in.ConsumeIntegralInRange(0, 4); i > 0; --i) {
    std::string k = in.ConsumeRandomLengthString(100);
    std::string v = in.ConsumeRandomLengthString(100);
    all_utf8 = all_utf8 && utf8(k) && utf8(v);
    r.annotations[k] = v;
  }
  auto back = state::parse_process_record(state::to_json(r), "state.json");
  if (r.id.empty()) {
    check(!back.ok());
  } else {
    check(back.ok());
    check(back->pid == r.pid && back->monitor_pid == r.monitor_pid &&
          back->monitor_start == r.monitor_start && back->created_ns == r.created_ns &&
          back->terminal == r.terminal && back->sandbox == r.sandbox);
    if (all_utf8)
      check(back->id == r.id && back->exec_id == r.exec_id && back->bundle == r.bundle &&
            back->stdin_path == r.stdin_path && back->stdout_path == r.stdout_path &&
            back->stderr_path == r.stderr_path && back->overlay_group == r.overlay_group &&
            back->annotations == r.annotations);
  }

  state::ExitRecord e;
  e.status = in.ConsumeIntegral<int>();
  e.exited_ns = in.ConsumeIntegral<int64_t>();
  e.reason = in.ConsumeRandomLengthString(100);
  auto exit_back = state::parse_exit_record(state::to_json(e), "exit.json");
  check(exit_back.ok() && exit_back->status == e.status && exit_back->exited_ns == e.exited_ns);
  if (utf8(e.reason)) check(exit_back->reason == e.reason);
}

bool same_users(const std::vector<reaper::overlay::UserEntry>& a,
                const std::vector<reaper::overlay::UserEntry>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].container_id != b[i].container_id || a[i].pid != b[i].pid ||
        a[i].start_time != b[i].start_time || a[i].ns_inode != b[i].ns_inode ||
        a[i].mounts.size() != b[i].mounts.size())
      return false;
    for (size_t j = 0; j < a[i].mounts.size(); ++j)
      if (a[i].mounts[j].dest != b[i].mounts[j].dest ||
          a[i].mounts[j].mount_id != b[i].mounts[j].mount_id)
        return false;
  }
  return true;
}

void users_file(std::string_view text) {
  auto users = reaper::overlay::parse_users(text, "users");
  if (!users) return;
  auto again = reaper::overlay::parse_users(reaper::overlay::format_users(*users), "again");
  check(again.ok() && same_users(*users, *again));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  auto rest = reaper::fuzz::as_text(data + 1, size - 1);
  switch (data[0] % 4) {
    case 0:
      parse_text(rest);
      break;
    case 1: {
      FuzzedDataProvider in(data + 1, size - 1);
      round_trip(in);
      break;
    }
    case 2:
      users_file(rest);
      break;
    case 3:
      (void)reaper::monitor::parse_reply(rest);
      break;
  }
  return 0;
}
