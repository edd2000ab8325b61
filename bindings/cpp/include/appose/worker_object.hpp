// libappose C++ wrapper: objects that live in a worker.
// SPDX-License-Identifier: BSD-2-Clause
#ifndef APPOSE_WORKER_OBJECT_HPP
#define APPOSE_WORKER_OBJECT_HPP

#include <string>
#include <vector>

#include "appose/error.hpp"
#include "appose/task.hpp"
#include "appose/value.hpp"

namespace appose {

namespace detail {
/// C handles of argument values, for the C calls that take them.
inline std::vector<const appose_value*> value_ptrs(const std::vector<const Value*>& args) {
  std::vector<const appose_value*> out;
  out.reserve(args.size());
  for (const Value* v : args) out.push_back(v->capi());
  return out;
}
}  // namespace detail

/// A handle to an object a worker keeps (a result JSON cannot carry, or a
/// variable your script exported). Its attributes, methods and `dir()` are
/// small tasks in the worker; objects the worker sent are deleted there
/// when their last handle goes. Move-only. Blocking calls also come as
/// `*_task`, which return the task unstarted.
class WorkerObject {
 public:
  /// The worker object a value holds (throws when it holds none).
  explicit WorkerObject(const Value& v) {
    appose_worker_object* p = nullptr;
    detail::call(appose_value_worker_object, v.capi(), &p);
    h_ = Handle(p);
  }
  /// Takes ownership of a C handle.
  explicit WorkerObject(appose_worker_object* handle) noexcept : h_(handle) {}

  /// The variable the worker keeps it under.
  std::string name() const {
    char* s = nullptr;
    detail::call(appose_worker_object_name, h_.get(), &s);
    return detail::take(s);
  }
  /// Attribute `name` (a value, or a worker object such as a bound method).
  Value attr(const std::string& name) const {
    appose_value* p = nullptr;
    detail::call(appose_worker_object_attr, h_.get(), name.c_str(), &p);
    return Value(p);
  }
  Task attr_task(const std::string& name) const {
    appose_task* p = nullptr;
    detail::call(appose_worker_object_attr_task, h_.get(), name.c_str(), &p);
    return Task(p);
  }
  /// Calls method `method` with `args`.
  Value invoke(const std::string& method, const std::vector<const Value*>& args = {}) const {
    auto ptrs = detail::value_ptrs(args);
    appose_value* p = nullptr;
    detail::call(appose_worker_object_invoke, h_.get(), method.c_str(), ptrs.data(), ptrs.size(), &p);
    return Value(p);
  }
  Task invoke_task(const std::string& method, const std::vector<const Value*>& args = {}) const {
    auto ptrs = detail::value_ptrs(args);
    appose_task* p = nullptr;
    detail::call(appose_worker_object_invoke_task, h_.get(), method.c_str(), ptrs.data(), ptrs.size(), &p);
    return Task(p);
  }
  /// Calls the object itself (a function, a bound method).
  Value operator()(const std::vector<const Value*>& args = {}) const {
    auto ptrs = detail::value_ptrs(args);
    appose_value* p = nullptr;
    detail::call(appose_worker_object_call, h_.get(), ptrs.data(), ptrs.size(), &p);
    return Value(p);
  }
  /// Its attribute names.
  std::vector<std::string> dir() const {
    char* s = nullptr;
    detail::call(appose_worker_object_dir, h_.get(), &s);
    return detail::parse_string_array(detail::take(s));
  }
  /// A value holding this object, to pass it as an argument.
  Value as_value() const {
    appose_value* p = nullptr;
    detail::call(appose_value_from_worker_object, h_.get(), &p);
    return Value(p);
  }

  appose_worker_object* capi() { return h_.get(); }
  const appose_worker_object* capi() const { return h_.get(); }

 private:
  using Handle = detail::Owned<appose_worker_object, appose_worker_object_free>;
  Handle h_;
};

}  // namespace appose

#endif  // APPOSE_WORKER_OBJECT_HPP
