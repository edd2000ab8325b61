// libappose C++ wrapper: errors, owned handles and callback plumbing.
// SPDX-License-Identifier: BSD-2-Clause
#ifndef APPOSE_ERROR_HPP
#define APPOSE_ERROR_HPP

#include <exception>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "appose.h"

namespace appose {

/// A failed call: the library's status and its message.
class Error : public std::runtime_error {
 public:
  Error(appose_status status, const std::string& message)
      : std::runtime_error(std::string(appose_status_str(static_cast<int>(status))) + ": " + message),
        status_(status),
        message_(message) {}

  /// The status the C call returned.
  appose_status status() const noexcept { return status_; }
  /// The library's message alone (for a failed task: its error text).
  const std::string& message() const noexcept { return message_; }

 private:
  appose_status status_;
  std::string message_;
};

namespace detail {

/// Receives the error object of one call (its trailing `appose_error**`)
/// and frees it: the message travels with the call, whatever thread reads it.
class ErrorOut {
 public:
  ErrorOut() = default;
  ErrorOut(const ErrorOut&) = delete;
  ErrorOut& operator=(const ErrorOut&) = delete;
  ~ErrorOut() { appose_error_free(e_); }
  appose_error** out() noexcept { return &e_; }
  /// Throws the call's error for a failed status.
  void check(appose_status status) const {
    if (status != APPOSE_STATUS_OK) throw Error(status, e_ != nullptr ? appose_error_message(e_) : "");
  }

 private:
  appose_error* e_ = nullptr;
};

/// Calls `f(args..., &error)` and throws its error if it fails.
template <typename F, typename... A>
void call(F f, A&&... args) {
  ErrorOut e;
  e.check(f(std::forward<A>(args)..., e.out()));
}

/// Takes ownership of a string the library returned.
inline std::string take(char* s) {
  std::string out = s != nullptr ? s : "";
  appose_string_free(s);
  return out;
}

/// The wrapper type of each C handle, for the error a moved-from wrapper
/// gives; `releasable` when it has `release()`, which empties it too.
template <typename T>
struct Wrapper;
#define APPOSE_WRAPPER(T, NAME, RELEASABLE)            \
  template <>                                          \
  struct Wrapper<T> {                                  \
    static constexpr const char* name = NAME;          \
    static constexpr bool releasable = RELEASABLE;     \
  }
APPOSE_WRAPPER(appose_env, "appose::Environment", true);
APPOSE_WRAPPER(appose_builder, "appose::Builder", false);
APPOSE_WRAPPER(appose_service, "appose::Service", false);
APPOSE_WRAPPER(appose_task, "appose::Task", false);
APPOSE_WRAPPER(appose_shm, "appose::SharedMemory", true);
APPOSE_WRAPPER(appose_ndarray, "appose::NDArray", true);
APPOSE_WRAPPER(appose_map, "appose::Map", true);
APPOSE_WRAPPER(appose_value, "appose::Value", false);
APPOSE_WRAPPER(appose_worker_object, "appose::WorkerObject", false);
APPOSE_WRAPPER(appose_queue, "appose::Queue", false);
#undef APPOSE_WRAPPER

/// A move-only owner of a C handle, freed with `Free`. A wrapper moved from
/// (or released) holds none: `get` then throws rather than hand the library
/// NULL, so every method of a moved-from wrapper fails the same clear way.
/// `get` on a const owner gives a const handle, which only the C calls that
/// read an object take: a const method cannot call one that changes it.
template <typename T, appose_status (*Free)(T*)>
class Owned {
 public:
  Owned() = default;
  explicit Owned(T* p) noexcept : p_(p) {}
  Owned(Owned&& o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
  Owned& operator=(Owned&& o) noexcept {
    if (this != &o) {
      reset();
      p_ = std::exchange(o.p_, nullptr);
    }
    return *this;
  }
  Owned(const Owned&) = delete;
  Owned& operator=(const Owned&) = delete;
  ~Owned() { reset(); }

  /// The handle; throws `Error` when there is none.
  T* get() { return checked(); }
  const T* get() const { return checked(); }
  /// Gives the handle up (throws as `get` when there is none).
  T* release() {
    T* p = checked();
    p_ = nullptr;
    return p;
  }
  void reset() noexcept {
    if (p_ != nullptr) Free(std::exchange(p_, nullptr));
  }

 private:
  T* checked() const {
    if (p_ == nullptr) {
      throw Error(APPOSE_STATUS_INVALID_HANDLE,
                  std::string(Wrapper<T>::name) +
                      (Wrapper<T>::releasable ? " used after it was moved from or released"
                                              : " used after it was moved from"));
    }
    return p_;
  }

  T* p_ = nullptr;
};

/// Exceptions thrown by user callbacks, caught at the C boundary (they must
/// never unwind into the library) and handed back to the caller later.
class CallbackErrors {
 public:
  void record(std::exception_ptr e) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!first_) first_ = std::move(e);
  }
  /// Rethrows the first recorded exception, if any (once).
  void rethrow() {
    std::exception_ptr e;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      e = std::exchange(first_, nullptr);
    }
    if (e) std::rethrow_exception(e);
  }

 private:
  std::mutex mutex_;
  std::exception_ptr first_;
};

/// A user callable and where its exceptions go; owned by the library as
/// userdata and deleted through `destroy`.
template <typename F>
struct Boxed {
  F fn;
  std::shared_ptr<CallbackErrors> errors;

  static void destroy(void* p) noexcept { delete static_cast<Boxed*>(p); }

  /// Calls the callable, keeping any exception from crossing into C.
  template <typename... A>
  static void invoke(void* p, A&&... args) noexcept {
    auto* self = static_cast<Boxed*>(p);
    try {
      self->fn(std::forward<A>(args)...);
    } catch (...) {
      self->errors->record(std::current_exception());
    }
  }
};

/// Parses a JSON array of strings as the library writes it (ASCII, escaped).
inline std::vector<std::string> parse_string_array(const std::string& json) {
  std::vector<std::string> out;
  size_t i = 0;
  auto append_utf8 = [](std::string& s, unsigned cp) {
    if (cp < 0x80) {
      s += static_cast<char>(cp);
    } else if (cp < 0x800) {
      s += static_cast<char>(0xC0 | (cp >> 6));
      s += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      s += static_cast<char>(0xE0 | (cp >> 12));
      s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      s += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      s += static_cast<char>(0xF0 | (cp >> 18));
      s += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      s += static_cast<char>(0x80 | (cp & 0x3F));
    }
  };
  auto hex4 = [&json](size_t at) { return static_cast<unsigned>(std::stoul(json.substr(at, 4), nullptr, 16)); };
  while ((i = json.find('"', i)) != std::string::npos) {
    std::string s;
    for (++i; i < json.size() && json[i] != '"'; ++i) {
      if (json[i] != '\\') {
        s += json[i];
        continue;
      }
      char c = json[++i];
      switch (c) {
        case 'n': s += '\n'; break;
        case 't': s += '\t'; break;
        case 'r': s += '\r'; break;
        case 'b': s += '\b'; break;
        case 'f': s += '\f'; break;
        case 'u': {
          unsigned cp = hex4(i + 1);
          i += 4;
          if (cp >= 0xD800 && cp < 0xDC00 && json.compare(i + 1, 2, "\\u") == 0) {
            unsigned lo = hex4(i + 3);
            if (lo >= 0xDC00 && lo < 0xE000) {
              cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
              i += 6;
            }
          }
          append_utf8(s, cp);
          break;
        }
        default: s += c;
      }
    }
    out.push_back(std::move(s));
    ++i;
  }
  return out;
}

/// Pointers to the C strings of `v`, for `const char *const *` arguments.
inline std::vector<const char*> c_strings(const std::vector<std::string>& v) {
  std::vector<const char*> out;
  out.reserve(v.size());
  for (const auto& s : v) out.push_back(s.c_str());
  return out;
}

}  // namespace detail
}  // namespace appose

#endif  // APPOSE_ERROR_HPP
