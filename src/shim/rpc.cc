#include "shim/rpc.h"

#include <cerrno>

#include "ttrpc.pb.h"

namespace reaper::shim {

std::string_view code_name(Code code) {
  // Indexed by code: the gRPC codes are 0..16 without gaps.
  static constexpr std::string_view names[] = {
      "OK",       "Canceled",        "Unknown",          "InvalidArgument",   "DeadlineExceeded",
      "NotFound", "AlreadyExists",   "PermissionDenied", "ResourceExhausted", "FailedPrecondition",
      "Aborted",  "OutOfRange",      "Unimplemented",    "Internal",          "Unavailable",
      "DataLoss", "Unauthenticated",
  };
  auto index = static_cast<size_t>(code);
  return index < std::size(names) ? names[index] : "Code(?)";
}

std::string RpcStatus::what() const {
  if (message.empty()) return std::string(code_name(code));
  return fmt::format("{}: {}", code_name(code), message);
}

RpcStatus to_rpc_status(const Error& error) {
  Code code = Code::unknown;
  switch (error.err()) {
    case ENOENT:
    case ESRCH:
      code = Code::not_found;
      break;
    case EEXIST:
      code = Code::already_exists;
      break;
    case EINVAL:
      code = Code::invalid_argument;
      break;
    case EBUSY:
    case ENOTEMPTY:
    case EALREADY:
      code = Code::failed_precondition;
      break;
    case ENOSYS:
    case EOPNOTSUPP:
      code = Code::unimplemented;
      break;
    case EPERM:
    case EACCES:
      code = Code::permission_denied;
      break;
    case ETIMEDOUT:
      code = Code::deadline_exceeded;
      break;
    default:
      break;
  }
  return RpcStatus{code, error.what()};
}

std::string encode_response(const RpcStatus& status, std::string_view payload) {
  ::ttrpc::Response response;
  auto* st = response.mutable_status();  // present even when empty
  st->set_code(static_cast<int32_t>(status.code));
  st->set_message(status.message);
  response.set_payload(std::string(payload));
  return response.SerializeAsString();
}

}  // namespace reaper::shim
