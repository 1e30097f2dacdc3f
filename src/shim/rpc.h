#pragma once
// gRPC status codes and the result type of RPC handlers. ttrpc reuses the
// gRPC error model (google.rpc.Status); containerd turns the codes below into
// its errdefs errors, so the code matters, not only the text: NotFound on
// Kill after exit, AlreadyExists on a duplicate exec id, and so on.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include <fmt/format.h>

#include "common/error.h"

namespace reaper::shim {

enum class Code : int32_t {
  ok = 0,
  canceled = 1,
  unknown = 2,
  invalid_argument = 3,
  deadline_exceeded = 4,
  not_found = 5,
  already_exists = 6,
  permission_denied = 7,
  resource_exhausted = 8,
  failed_precondition = 9,
  aborted = 10,
  out_of_range = 11,
  unimplemented = 12,
  internal = 13,
  unavailable = 14,
  data_loss = 15,
  unauthenticated = 16,
};

std::string_view code_name(Code code);

struct RpcStatus {
  Code code = Code::ok;
  std::string message;

  [[nodiscard]] bool ok() const { return code == Code::ok; }
  // "NotFound: container x not found"
  [[nodiscard]] std::string what() const;
};

template <typename... Args>
[[nodiscard]] RpcStatus rpc_error(Code code, fmt::format_string<Args...> f, Args&&... args) {
  return RpcStatus{code, fmt::format(f, std::forward<Args>(args)...)};
}

// An Error of the core as an RPC status, by its errno: ENOENT/ESRCH ->
// NotFound, EEXIST -> AlreadyExists, EINVAL -> InvalidArgument, EBUSY and
// friends -> FailedPrecondition, ENOSYS/EOPNOTSUPP -> Unimplemented, the
// rest -> Unknown. The message is Error::what().
RpcStatus to_rpc_status(const Error& error);

// A handler's outcome: a response message or a non-OK status.
template <typename T>
class [[nodiscard]] RpcResult {
 public:
  RpcResult(T value)
      : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT(google-explicit-constructor)
  RpcResult(RpcStatus status)
      : v_(std::in_place_index<1>, std::move(status)) {}  // NOLINT(google-explicit-constructor)
  RpcResult(const Error& error)
      : v_(std::in_place_index<1>, to_rpc_status(error)) {}  // NOLINT(google-explicit-constructor)

  [[nodiscard]] bool ok() const { return v_.index() == 0; }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  const RpcStatus& status() const& { return std::get<1>(v_); }
  RpcStatus&& status() && { return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, RpcStatus> v_;
};

// The serialized ttrpc.Response for a status and payload. The status field is
// always present, even for OK (Go sends `0a 00`).
std::string encode_response(const RpcStatus& status, std::string_view payload);

}  // namespace reaper::shim
