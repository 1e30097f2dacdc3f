#include "shim/backend_factory.h"

namespace reaper::shim {

std::unique_ptr<TaskBackend> make_task_backend(const BackendContext& ctx) {
  (void)ctx;
  return std::make_unique<UnimplementedBackend>();
}

}  // namespace reaper::shim
