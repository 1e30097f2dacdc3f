#include "common/event_loop.h"

#include <sys/timerfd.h>
#include <unistd.h>

#include <array>

namespace reaper {

struct EventLoop::Core {
  struct Entry {
    int fd;
    std::shared_ptr<Callback> callback;  // shared: survives its own removal mid-call
  };

  UniqueFd epfd;
  std::unordered_map<uint64_t, Entry> entries;
  uint64_t next_id = 1;
  std::deque<std::function<void()>> posted;
  bool stop = false;

  void remove(uint64_t id) {
    auto it = entries.find(id);
    if (it == entries.end()) return;
    // Fails harmlessly with EBADF/ENOENT if the fd was closed first.
    ::epoll_ctl(epfd.get(), EPOLL_CTL_DEL, it->second.fd, nullptr);
    entries.erase(it);
  }
};

EventLoop::Watch::Watch(Watch&& other) noexcept
    : core_(std::move(other.core_)), id_(std::exchange(other.id_, 0)) {}

EventLoop::Watch& EventLoop::Watch::operator=(Watch&& other) noexcept {
  if (this != &other) {
    reset();
    core_ = std::move(other.core_);
    id_ = std::exchange(other.id_, 0);
  }
  return *this;
}

void EventLoop::Watch::reset() {
  if (id_ == 0) return;
  if (auto core = core_.lock()) core->remove(id_);
  id_ = 0;
  core_.reset();
}

Status EventLoop::Watch::modify(uint32_t events) {
  auto core = core_.lock();
  if (!core || id_ == 0) return make_error("event loop: modify of an inactive watch");
  auto it = core->entries.find(id_);
  if (it == core->entries.end()) return make_error("event loop: modify of a removed watch");
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = id_;
  if (::epoll_ctl(core->epfd.get(), EPOLL_CTL_MOD, it->second.fd, &ev) < 0)
    return sys_error("epoll_ctl(MOD, fd {})", it->second.fd);
  return {};
}

Result<EventLoop> EventLoop::create() {
  auto core = std::make_shared<Core>();
  core->epfd.reset(::epoll_create1(EPOLL_CLOEXEC));
  if (!core->epfd) return sys_error("epoll_create1");
  return EventLoop(std::move(core));
}

Result<EventLoop::Watch> EventLoop::watch(int fd, uint32_t events, Callback callback) {
  uint64_t id = core_->next_id++;
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = id;
  if (::epoll_ctl(core_->epfd.get(), EPOLL_CTL_ADD, fd, &ev) < 0)
    return sys_error("epoll_ctl(ADD, fd {})", fd);
  core_->entries.emplace(id, Core::Entry{fd, std::make_shared<Callback>(std::move(callback))});
  return Watch(core_, id);
}

void EventLoop::post(std::function<void()> task) {
  core_->posted.push_back(std::move(task));
}

Status EventLoop::run_once(std::chrono::milliseconds timeout) {
  std::array<epoll_event, 64> events{};
  int wait_ms = core_->posted.empty() ? static_cast<int>(timeout.count()) : 0;
  int n = ::epoll_wait(core_->epfd.get(), events.data(), static_cast<int>(events.size()), wait_ms);
  if (n < 0 && errno != EINTR) return sys_error("epoll_wait");
  for (int i = 0; i < n; ++i) {
    // A copy: epoll_event is packed on x86-64, and find() takes a reference.
    uint64_t id = events[static_cast<size_t>(i)].data.u64;
    auto it = core_->entries.find(id);
    if (it == core_->entries.end()) continue;  // removed earlier in this round
    std::shared_ptr<Callback> callback = it->second.callback;
    (*callback)(events[static_cast<size_t>(i)].events);
  }
  // Only the tasks present now: tasks they post run in the next round, so a
  // task that re-posts itself cannot starve the fds.
  auto tasks = std::exchange(core_->posted, {});
  for (auto& task : tasks) task();
  return {};
}

Status EventLoop::run() {
  while (!core_->stop) REAPER_TRY(run_once());
  return {};
}

void EventLoop::stop() {
  core_->stop = true;
}
bool EventLoop::stopped() const {
  return core_->stop;
}
void EventLoop::restart() {
  core_->stop = false;
}

Result<Timer> Timer::create(EventLoop& loop, std::function<void()> on_fire) {
  auto state = std::make_unique<State>();
  state->fd.reset(::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC));
  if (!state->fd) return sys_error("timerfd_create");
  state->on_fire = std::move(on_fire);
  State* raw = state.get();
  state->watch = REAPER_TRY(loop.watch(raw->fd.get(), EPOLLIN, [raw](uint32_t) {
    uint64_t expirations = 0;
    if (::read(raw->fd.get(), &expirations, sizeof expirations) != sizeof expirations) return;
    raw->armed = false;
    // Copied: the callback may destroy or re-arm this timer.
    auto fire = raw->on_fire;
    fire();
  }));
  return Timer(std::move(state));
}

Status Timer::arm(std::chrono::milliseconds after) {
  itimerspec spec{};
  auto ms = std::max<int64_t>(after.count(), 0);
  spec.it_value.tv_sec = ms / 1000;
  spec.it_value.tv_nsec = (ms % 1000) * 1000000;
  if (ms == 0) spec.it_value.tv_nsec = 1;  // an all-zero it_value would disarm
  if (::timerfd_settime(state_->fd.get(), 0, &spec, nullptr) < 0)
    return sys_error("timerfd_settime");
  state_->armed = true;
  return {};
}

void Timer::disarm() {
  itimerspec spec{};
  ::timerfd_settime(state_->fd.get(), 0, &spec, nullptr);
  // A expiration already counted but not yet read is drained here, so that a
  // disarmed timer never fires.
  uint64_t expirations = 0;
  [[maybe_unused]] auto n = ::read(state_->fd.get(), &expirations, sizeof expirations);
  state_->armed = false;
}

bool Timer::armed() const {
  return state_->armed;
}

}  // namespace reaper
