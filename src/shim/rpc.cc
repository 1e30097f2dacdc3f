#include "shim/rpc.h"

#include <cerrno>

#include "ttrpc.pb.h"

namespace reaper::shim {

std::string_view code_name(Code code) {
  switch (code) {
    case Code::ok: return "OK";
    case Code::canceled: return "Canceled";
    case Code::unknown: return "Unknown";
    case Code::invalid_argument: return "InvalidArgument";
    case Code::deadline_exceeded: return "DeadlineExceeded";
    case Code::not_found: return "NotFound";
    case Code::already_exists: return "AlreadyExists";
    case Code::permission_denied: return "PermissionDenied";
    case Code::resource_exhausted: return "ResourceExhausted";
    case Code::failed_precondition: return "FailedPrecondition";
    case Code::aborted: return "Aborted";
    case Code::out_of_range: return "OutOfRange";
    case Code::unimplemented: return "Unimplemented";
    case Code::internal: return "Internal";
    case Code::unavailable: return "Unavailable";
    case Code::data_loss: return "DataLoss";
    case Code::unauthenticated: return "Unauthenticated";
  }
  return "Code(?)";
}

std::string RpcStatus::what() const {
  if (message.empty()) return std::string(code_name(code));
  return fmt::format("{}: {}", code_name(code), message);
}

RpcStatus to_rpc_status(const Error& error) {
  Code code = Code::unknown;
  switch (error.err()) {
    case ENOENT:
    case ESRCH: code = Code::not_found; break;
    case EEXIST: code = Code::already_exists; break;
    case EINVAL: code = Code::invalid_argument; break;
    case EBUSY:
    case ENOTEMPTY:
    case EALREADY: code = Code::failed_precondition; break;
    case ENOSYS:
    case EOPNOTSUPP: code = Code::unimplemented; break;
    case EPERM:
    case EACCES: code = Code::permission_denied; break;
    case ETIMEDOUT: code = Code::deadline_exceeded; break;
    default: break;
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
