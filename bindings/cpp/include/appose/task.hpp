// libappose C++ wrapper: tasks and their events.
// SPDX-License-Identifier: BSD-2-Clause
#ifndef APPOSE_TASK_HPP
#define APPOSE_TASK_HPP

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "appose/error.hpp"
#include "appose/queue.hpp"
#include "appose/value.hpp"

namespace appose {

enum class TaskStatus : int {
  Initial = APPOSE_TASK_INITIAL,
  Queued = APPOSE_TASK_QUEUED,
  Running = APPOSE_TASK_RUNNING,
  Complete = APPOSE_TASK_COMPLETE,
  Canceled = APPOSE_TASK_CANCELED,
  Failed = APPOSE_TASK_FAILED,
  Crashed = APPOSE_TASK_CRASHED,
};

enum class ResponseType : int {
  Launch = APPOSE_RESPONSE_LAUNCH,
  Update = APPOSE_RESPONSE_UPDATE,
  Completion = APPOSE_RESPONSE_COMPLETION,
  Cancelation = APPOSE_RESPONSE_CANCELATION,
  Failure = APPOSE_RESPONSE_FAILURE,
  Crash = APPOSE_RESPONSE_CRASH,
};

inline std::string to_string(TaskStatus s) { return appose_task_status_str(static_cast<int>(s)); }

/// One task event, copied out of the callback's C struct.
struct TaskEvent {
  ResponseType type;
  TaskStatus status;
  std::optional<std::string> message;
  std::optional<int64_t> current;
  std::optional<int64_t> maximum;
  /// UPDATE info as JSON text.
  std::optional<std::string> info_json;
  /// FAILURE and CRASH error text.
  std::optional<std::string> error;

  static TaskEvent from(const appose_event& e) {
    auto str = [](const char* s) { return s != nullptr ? std::optional<std::string>(s) : std::nullopt; };
    return TaskEvent{static_cast<ResponseType>(e.response_type),
                     static_cast<TaskStatus>(e.task_status),
                     str(e.message),
                     e.has_current ? std::optional<int64_t>(e.current) : std::nullopt,
                     e.has_maximum ? std::optional<int64_t>(e.maximum) : std::nullopt,
                     str(e.info_json),
                     str(e.error)};
  }
};

/// A script run in a worker. Move-only; freeing it does not stop the task.
/// A moved-from task throws `Error` from every method.
class Task {
 public:
  using Listener = std::function<void(const TaskEvent&)>;

  /// Takes ownership of a C handle.
  explicit Task(appose_task* handle) : h_(handle), errors_(std::make_shared<detail::CallbackErrors>()) {}

  /// Adds a listener (before the task starts). It runs on the service's
  /// dispatcher thread; an exception it throws is caught there and rethrown
  /// by `wait`.
  Task& listen(Listener listener) {
    using Box = detail::Boxed<Listener>;
    appose_task* h = h_.get();  // first: a moved-from task throws before the box exists
    auto* box = new Box{std::move(listener), errors_};
    detail::ErrorOut err;
    appose_status st = appose_task_listen(
        h, [](void* ud, const appose_event* e) noexcept { Box::invoke(ud, TaskEvent::from(*e)); },
        box, &Box::destroy, err.out());
    if (st != APPOSE_STATUS_OK) {
      delete box;  // a failed registration leaves the box to us
      err.check(st);
    }
    return *this;
  }

  /// Sends the task's events into `queue`, tagged `tag` (before it starts).
  Task& listen(Queue& queue, uint64_t tag) {
    detail::call(appose_task_listen_queue, h_.get(), queue.capi(), tag);
    return *this;
  }

  Task& start() {
    detail::call(appose_task_start, h_.get());
    return *this;
  }

  /// Waits until the task finishes (starting it if needed). Throws `Error`
  /// with APPOSE_STATUS_TASK_FAILED / _CANCELED / _CRASHED (message: the
  /// task's error), or a listener's own exception.
  Task& wait() {
    detail::ErrorOut err;
    finish(err, appose_task_wait(h_.get(), -1, err.out()));
    return *this;
  }

  /// As `wait`, at most `timeout`; false if it ran out (the task goes on).
  template <typename Rep, typename Period>
  bool wait_for(std::chrono::duration<Rep, Period> timeout) {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(timeout).count();
    detail::ErrorOut err;
    appose_status st = appose_task_wait(h_.get(), static_cast<int64_t>(ms < 0 ? 0 : ms), err.out());
    if (st == APPOSE_STATUS_TIMEOUT) return false;
    finish(err, st);
    return true;
  }

  /// Asks the worker to cancel (the script must check task.cancel_requested).
  void cancel() { detail::call(appose_task_cancel, h_.get()); }

  TaskStatus status() const {
    appose_task_status s = APPOSE_TASK_INITIAL;
    detail::call(appose_task_get_status, h_.get(), &s);
    return static_cast<TaskStatus>(s);
  }
  /// The outputs, arrays attached (worker-made blocks are ours to free).
  Map outputs() const {
    appose_map* p = nullptr;
    detail::call(appose_task_outputs, h_.get(), &p);
    return Map(p);
  }
  std::string outputs_json() const {
    char* s = nullptr;
    detail::call(appose_task_outputs_json, h_.get(), &s);
    return detail::take(s);
  }
  /// `outputs["result"]` as a typed value (null when absent).
  Value result() const {
    appose_value* p = nullptr;
    detail::call(appose_task_result, h_.get(), &p);
    return Value(p);
  }
  /// `outputs["result"]` as JSON text (`null` when absent).
  std::string result_json() const {
    char* s = nullptr;
    detail::call(appose_task_result_json, h_.get(), &s);
    return detail::take(s);
  }
  std::optional<std::string> error() const {
    char* s = nullptr;
    detail::call(appose_task_error, h_.get(), &s);
    if (s == nullptr) return std::nullopt;
    return detail::take(s);
  }
  std::string id() const {
    char* s = nullptr;
    detail::call(appose_task_id, h_.get(), &s);
    return detail::take(s);
  }

  appose_task* capi() { return h_.get(); }
  const appose_task* capi() const { return h_.get(); }

 private:
  void finish(const detail::ErrorOut& err, appose_status st) {
    errors_->rethrow();
    err.check(st);
  }

  detail::Owned<appose_task, appose_task_free> h_;
  std::shared_ptr<detail::CallbackErrors> errors_;
};

}  // namespace appose

#endif  // APPOSE_TASK_HPP
