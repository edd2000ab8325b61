// libappose C++ wrapper: services (worker processes).
// SPDX-License-Identifier: BSD-2-Clause
#ifndef APPOSE_SERVICE_HPP
#define APPOSE_SERVICE_HPP

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "appose/error.hpp"
#include "appose/queue.hpp"
#include "appose/task.hpp"
#include "appose/value.hpp"
#include "appose/worker_object.hpp"

namespace appose {

/// A worker process. Move-only. Destroying the last handle of a started
/// service closes the worker's stdin (killing it if it lingers); call
/// `close` to wait for it. A moved-from service throws `Error` from every
/// method.
class Service {
 public:
  using DebugListener = std::function<void(const std::string&)>;

  /// Takes ownership of a C handle.
  explicit Service(appose_service* handle) noexcept : h_(handle) {}

  /// A script the worker runs before any task; its public names are
  /// visible to every task. Before start.
  Service& init(const std::string& script) {
    detail::call(appose_service_init, h_.get(), script.c_str());
    return *this;
  }
  /// Sets (or with nullopt removes) a worker environment variable.
  Service& env_var(const std::string& key, const std::optional<std::string>& value) {
    detail::call(appose_service_env_var, h_.get(), key.c_str(), value ? value->c_str() : nullptr);
    return *this;
  }
  /// Receives service messages and worker stderr lines on the dispatcher
  /// thread. An exception it throws is caught and written to stderr.
  Service& debug(DebugListener listener) {
    struct Box {
      DebugListener fn;
      static void destroy(void* p) noexcept { delete static_cast<Box*>(p); }
    };
    appose_service* h = h_.get();  // first: a moved-from service throws before the box exists
    auto* box = new Box{std::move(listener)};
    detail::ErrorOut err;
    appose_status st = appose_service_debug(
        h,
        [](void* ud, const char* line) noexcept {
          try {
            static_cast<Box*>(ud)->fn(line);
          } catch (const std::exception& e) {
            std::fprintf(stderr, "appose: debug listener threw: %s\n", e.what());
          } catch (...) {
            std::fprintf(stderr, "appose: debug listener threw\n");
          }
        },
        box, &Box::destroy, err.out());
    if (st != APPOSE_STATUS_OK) {
      delete box;
      err.check(st);
    }
    return *this;
  }
  Service& start() {
    detail::call(appose_service_start, h_.get());
    return *this;
  }

  /// A task (INITIAL): add listeners, then `start` or `wait`.
  Task task(const std::string& script) { return task_with(script, nullptr, nullptr); }
  Task task(const std::string& script, const Map& inputs, const std::string& queue = "") {
    return task_with(script, &inputs, queue.empty() ? nullptr : queue.c_str());
  }
  /// A task with inputs given as a JSON object's text.
  Task task_json(const std::string& script, const std::string& inputs_json, const std::string& queue = "") {
    appose_task* p = nullptr;
    detail::call(appose_service_task, h_.get(), script.c_str(), inputs_json.c_str(),
                                      queue.empty() ? nullptr : queue.c_str(), &p);
    return Task(p);
  }

  /// Closes the worker's stdin and waits for it to exit, killing it after
  /// `timeout` (none: wait as long as it takes). Returns the exit code
  /// (128 + signal when killed; -1 if it never started). Blocks up to about
  /// twice `timeout`: the second for listeners still running to return.
  int close(std::optional<std::chrono::milliseconds> timeout = std::nullopt) {
    int code = -1;
    detail::call(appose_service_close, h_.get(), timeout ? static_cast<int64_t>(timeout->count()) : -1, &code);
    return code;
  }
  /// Starts closing without blocking: the outcome arrives in `queue` as one
  /// `EventKind::Closed` event tagged `tag`.
  void close_async(std::optional<std::chrono::milliseconds> timeout, Queue& queue, uint64_t tag) {
    detail::call(appose_service_close_async, h_.get(), timeout ? static_cast<int64_t>(timeout->count()) : -1,
                 queue.capi(), tag);
  }
  /// Waits for the worker to exit by itself (without closing its stdin);
  /// its exit code, or `std::nullopt` when `timeout` ran out first.
  std::optional<int> wait_exit(std::optional<std::chrono::milliseconds> timeout = std::nullopt) {
    int code = -1;
    detail::ErrorOut err;
    appose_status st = appose_service_wait_exit(h_.get(), timeout ? static_cast<int64_t>(timeout->count()) : -1,
                                                &code, err.out());
    if (st == APPOSE_STATUS_TIMEOUT) return std::nullopt;
    err.check(st);
    return code;
  }
  /// Sends the events of every task made from now on into `queue`.
  Service& listen(Queue& queue, uint64_t tag) {
    detail::call(appose_service_listen_queue, h_.get(), queue.capi(), tag);
    return *this;
  }

  /// The worker's exported variable `name`.
  Value get_var(const std::string& name, const std::string& queue = "") {
    appose_value* p = nullptr;
    detail::call(appose_service_get_var, h_.get(), name.c_str(), queue.empty() ? nullptr : queue.c_str(), &p);
    return Value(p);
  }
  /// Sets and exports the worker's variable `name`.
  void put_var(const std::string& name, const Value& value, const std::string& queue = "") {
    detail::call(appose_service_put_var, h_.get(), name.c_str(), value.capi(),
                 queue.empty() ? nullptr : queue.c_str());
  }
  /// Calls `function` in the worker with `args`; its result.
  Value call(const std::string& function, const std::vector<const Value*>& args = {},
             const std::string& queue = "") {
    auto ptrs = detail::value_ptrs(args);
    appose_value* p = nullptr;
    detail::call(appose_service_call, h_.get(), function.c_str(), ptrs.data(), ptrs.size(),
                 queue.empty() ? nullptr : queue.c_str(), &p);
    return Value(p);
  }
  /// `call` as an unstarted task.
  Task call_task(const std::string& function, const std::vector<const Value*>& args = {},
                 const std::string& queue = "") {
    auto ptrs = detail::value_ptrs(args);
    appose_task* p = nullptr;
    detail::call(appose_service_call_task, h_.get(), function.c_str(), ptrs.data(), ptrs.size(),
                 queue.empty() ? nullptr : queue.c_str(), &p);
    return Task(p);
  }
  /// A handle to the variable `var` your script exported (never deleted).
  WorkerObject proxy(const std::string& var, const std::string& queue = "") {
    appose_worker_object* p = nullptr;
    detail::call(appose_service_proxy, h_.get(), var.c_str(), queue.empty() ? nullptr : queue.c_str(), &p);
    return WorkerObject(p);
  }
  /// Names the worker's script language ("python", "groovy") for a custom worker.
  Service& syntax(const std::string& name) {
    detail::call(appose_service_set_syntax, h_.get(), name.c_str());
    return *this;
  }

  /// Kills the worker's process group now; pending tasks end CRASHED.
  void kill() { detail::call(appose_service_kill, h_.get()); }
  bool alive() const {
    bool b = false;
    detail::call(appose_service_is_alive, h_.get(), &b);
    return b;
  }
  /// The worker's process id (a launcher's, such as `pixi run`, when there
  /// is one). Throws APPOSE_STATUS_INVALID_STATE before the service starts;
  /// after the worker exits, still the id it had (which may have been
  /// reused since: end the worker with `kill`, not by signalling the id).
  int64_t pid() const {
    int64_t pid = 0;
    detail::call(appose_service_pid, h_.get(), &pid);
    return pid;
  }
  /// Worker stdout lines that were not responses.
  std::vector<std::string> invalid_lines() const {
    char* s = nullptr;
    detail::call(appose_service_invalid_lines, h_.get(), &s);
    return detail::parse_string_array(detail::take(s));
  }
  /// Worker stderr lines.
  std::vector<std::string> error_lines() const {
    char* s = nullptr;
    detail::call(appose_service_error_lines, h_.get(), &s);
    return detail::parse_string_array(detail::take(s));
  }

  appose_service* capi() { return h_.get(); }
  const appose_service* capi() const { return h_.get(); }

 private:
  Task task_with(const std::string& script, const Map* inputs, const char* queue) {
    appose_task* p = nullptr;
    detail::call(appose_service_task_map, h_.get(), script.c_str(), inputs ? inputs->capi() : nullptr, queue, &p);
    return Task(p);
  }

  detail::Owned<appose_service, appose_service_free> h_;
};

}  // namespace appose

#endif  // APPOSE_SERVICE_HPP
