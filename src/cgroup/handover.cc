#include "cgroup/handover.h"

#include "common/fd_passing.h"

namespace reaper::cgroup {

namespace {

// A record names one directory per hierarchy: far below this.
constexpr size_t max_record_size = 64 * 1024;

}  // namespace

Status send_cgroup(int sock, const Cgroup& cg) {
  if (auto st = send_with_fds(sock, to_json(cg.record()), cg.handover_fds()); !st)
    return std::move(st).error().wrap("hand the cgroup to the monitor");
  return {};
}

Result<Cgroup> receive_cgroup(int sock) {
  auto got = REAPER_TRY_CTX(receive_with_fds(sock, max_record_size), "receive the cgroup");
  if (got.data.empty()) return make_error("the caller did not create it");
  auto record = REAPER_TRY(parse_record(got.data, "the cgroup handed over"));
  return Cgroup::adopt(record, std::move(got.fds));
}

}  // namespace reaper::cgroup
