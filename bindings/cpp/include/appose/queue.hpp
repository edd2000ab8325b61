// libappose C++ wrapper: event queues, taken on the caller's own thread.
// SPDX-License-Identifier: BSD-2-Clause
#ifndef APPOSE_QUEUE_HPP
#define APPOSE_QUEUE_HPP

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "appose/error.hpp"

namespace appose {

/// What an `Event` is about.
enum class EventKind : int32_t {
  Task = APPOSE_EVENT_TASK,
  Closed = APPOSE_EVENT_CLOSED,
  BuildProgress = APPOSE_EVENT_BUILD_PROGRESS,
  BuildOutput = APPOSE_EVENT_BUILD_OUTPUT,
  BuildError = APPOSE_EVENT_BUILD_ERROR,
  Built = APPOSE_EVENT_BUILT,
};

/// One event taken from a `Queue`, copied out of its batch (so it lives as
/// long as you keep it). Task events carry `response_type` and
/// `task_status` as the C numbers (`appose::ResponseType`,
/// `appose::TaskStatus` convert them).
struct Event {
  EventKind kind;
  uint64_t tag;
  std::string task_id;
  int32_t response_type;
  int32_t task_status;
  /// CLOSED and BUILT: the outcome's status (`APPOSE_STATUS_OK` or a failure).
  appose_status status;
  /// CLOSED: the worker's exit code, -1 when unknown.
  int32_t exit_code;
  std::optional<std::string> message;
  std::optional<int64_t> current;
  std::optional<int64_t> maximum;
  std::optional<std::string> info_json;
  std::optional<std::string> error;

  static Event from(const appose_event& e) {
    auto str = [](const char* s) { return s != nullptr ? std::optional<std::string>(s) : std::nullopt; };
    return Event{static_cast<EventKind>(e.kind),
                 e.tag,
                 e.task_id != nullptr ? e.task_id : "",
                 e.response_type,
                 e.task_status,
                 static_cast<appose_status>(e.status),
                 e.exit_code,
                 str(e.message),
                 e.has_current ? std::optional<int64_t>(e.current) : std::nullopt,
                 e.has_maximum ? std::optional<int64_t>(e.maximum) : std::nullopt,
                 str(e.info_json),
                 str(e.error)};
  }
};

/// Events of tasks, services, closes and builds, taken on your own thread
/// when `fd()` turns readable (take until `take()` is empty). Move-only.
class Queue {
 public:
  Queue() {
    appose_queue* p = nullptr;
    detail::call(appose_queue_new, &p);
    h_ = Handle(p);
  }
  /// The read end of the queue's pipe; owned by the queue (never close it).
  int fd() const {
    int fd = -1;
    detail::call(appose_queue_fd, h_.get(), &fd);
    return fd;
  }
  /// A duplicate of `fd()` that you own (for watchers that close theirs).
  int dup_fd() const {
    int fd = -1;
    detail::call(appose_queue_dup_fd, h_.get(), &fd);
    return fd;
  }
  /// Up to `max` waiting events (0: all), in order; empty when none wait.
  /// Never blocks.
  std::vector<Event> take(size_t max = 0) {
    appose_event_batch* b = nullptr;
    detail::call(appose_queue_take, h_.get(), max, &b);
    std::vector<Event> out;
    size_t n = appose_event_batch_len(b);
    out.reserve(n);
    for (size_t i = 0; i < n; ++i) out.push_back(Event::from(*appose_event_batch_get(b, i)));
    appose_event_batch_free(b);
    return out;
  }

  appose_queue* capi() { return h_.get(); }
  const appose_queue* capi() const { return h_.get(); }

 private:
  using Handle = detail::Owned<appose_queue, appose_queue_free>;
  Handle h_;
};

}  // namespace appose

#endif  // APPOSE_QUEUE_HPP
