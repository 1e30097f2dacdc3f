#pragma once
// The one place where server mode picks its TaskBackend. Wiring the runtime
// core means replacing the body of make_task_backend (backend_factory.cc).

#include <memory>

#include "common/event_loop.h"
#include "shim/events.h"
#include "shim/flags.h"
#include "shim/log.h"
#include "shim/task_backend.h"

namespace reaper::shim {

struct BackendContext {
  EventLoop& loop;    // register pidfds etc. here
  EventSink& events;  // publish /tasks/exit, /tasks/oom here
  const Log& log;
  const ShimFlags& flags;  // namespace, id, containerd addresses
};

std::unique_ptr<TaskBackend> make_task_backend(const BackendContext& ctx);

}  // namespace reaper::shim
