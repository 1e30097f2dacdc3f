#include "shim/backend_factory.h"

#include <unistd.h>

#include "shim/runtime_backend.h"

namespace reaper::shim {

std::unique_ptr<TaskBackend> make_task_backend(const BackendContext& ctx) {
  auto backend = RuntimeBackend::create(ctx, environ);
  if (backend.ok()) return std::move(*backend);
  // Without a state store (a broken node config, say) every call gets the
  // reason instead of the shim dying unseen.
  ctx.log.error("{}", backend.error().what());
  return std::make_unique<UnimplementedBackend>();
}

}  // namespace reaper::shim
