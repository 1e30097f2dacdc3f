#include "shim/events.h"

#include <time.h>

#include "events_ttrpc.pb.h"

namespace reaper::shim {

reaper::pb::Timestamp timestamp_now() {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  reaper::pb::Timestamp out;
  out.set_seconds(ts.tv_sec);
  out.set_nanos(static_cast<int32_t>(ts.tv_nsec));
  return out;
}

reaper::pb::Timestamp timestamp_from_ns(int64_t ns) {
  reaper::pb::Timestamp out;
  out.set_seconds(ns / 1'000'000'000);
  out.set_nanos(static_cast<int32_t>(ns % 1'000'000'000));
  return out;
}

std::string make_forward_request(std::string_view ns, std::string_view topic,
                                 const google::protobuf::MessageLite& event,
                                 const reaper::pb::Timestamp& when) {
  ::containerd::services::events::ttrpc::v1::ForwardRequest request;
  auto* envelope = request.mutable_envelope();
  *envelope->mutable_timestamp() = when;
  envelope->set_namespace_(std::string(ns));
  envelope->set_topic(std::string(topic));
  auto* any = envelope->mutable_event();
  any->set_type_url(event.GetTypeName());
  any->set_value(event.SerializeAsString());
  return request.SerializeAsString();
}

EventPublisher::EventPublisher(EventLoop& loop, std::string ns, const Log& log, Options options)
    : loop_(loop), namespace_(std::move(ns)), log_(log), options_(options) {}

Result<std::unique_ptr<EventPublisher>> EventPublisher::create(EventLoop& loop,
                                                               std::string ttrpc_address,
                                                               std::string ns, const Log& log,
                                                               Options options) {
  std::unique_ptr<EventPublisher> publisher(new EventPublisher(loop, std::move(ns), log, options));
  EventPublisher* raw = publisher.get();
  publisher->client_ = REAPER_TRY(Client::create(loop, std::move(ttrpc_address), log));
  publisher->retry_timer_ =
      REAPER_TRY_CTX(Timer::create(loop, [raw] { raw->send_next(); }), "event publisher");
  return publisher;
}

void EventPublisher::publish(std::string_view topic, const google::protobuf::MessageLite& event) {
  queue_.push_back(
      Item{std::string(topic), make_forward_request(namespace_, topic, event, timestamp_now())});
  log_.debug("event {} queued ({} waiting)", topic, queue_.size());
  if (!in_flight_ && !retry_timer_->armed()) send_next();
}

void EventPublisher::send_next() {
  if (in_flight_ || queue_.empty()) return;
  in_flight_ = true;
  Item& head = queue_.front();
  ++head.attempts;
  client_->call(std::string(events_service), "Forward", head.request, options_.call_timeout,
                [this](const RpcStatus& status, const std::string&) { on_answer(status); });
}

void EventPublisher::on_answer(const RpcStatus& status) {
  in_flight_ = false;
  Item& head = queue_.front();
  if (status.ok()) {
    finish_head();
    return;
  }
  bool transport = status.code == Code::unavailable || status.code == Code::deadline_exceeded;
  if (!transport) {
    log_.error("publish {}: containerd refused the event: {}", head.topic, status.what());
    finish_head();
    return;
  }
  if (head.attempts >= options_.max_attempts) {
    log_.error("publish {}: giving up after {} attempts: {}", head.topic, head.attempts,
               status.what());
    finish_head();
    return;
  }
  // A fresh connection for the retry: containerd may have restarted.
  client_->close("retrying on a new connection");
  std::chrono::milliseconds delay = std::min<std::chrono::milliseconds>(
      options_.first_retry * (int64_t{1} << std::min(head.attempts - 1, 16)), options_.max_retry);
  log_.warn("publish {}: {}; retry {} in {} ms", head.topic, status.what(), head.attempts,
            delay.count());
  if (auto st = retry_timer_->arm(delay); !st) {
    log_.error("publish {}: {}", head.topic, st.error().what());
    finish_head();
  }
}

void EventPublisher::finish_head() {
  queue_.pop_front();
  if (!queue_.empty()) {
    send_next();
    return;
  }
  for (auto& done : std::exchange(on_empty_, {})) loop_.post(std::move(done));
}

void EventPublisher::flush(std::function<void()> done) {
  if (queue_.empty()) {
    loop_.post(std::move(done));
    return;
  }
  on_empty_.push_back(std::move(done));
}

}  // namespace reaper::shim
