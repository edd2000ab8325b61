// libappose C++ wrapper: hooks run on the library threads that call your code.
// SPDX-License-Identifier: BSD-2-Clause
#ifndef APPOSE_THREADS_HPP
#define APPOSE_THREADS_HPP

#include <cstdio>
#include <exception>
#include <functional>
#include <string>
#include <utility>

#include "appose/error.hpp"

namespace appose {

/// Called with a library thread's name when it starts (on that thread,
/// before any of your listeners run there) or when it is about to exit.
using ThreadHook = std::function<void(const std::string& thread_name)>;

/// Sets the hooks for library threads started from now on (a thread keeps
/// the hooks it started with): each service's dispatcher thread and the
/// threads of non-blocking closes and builds, the only ones that call your
/// code. Use them to attach threads to a runtime (a JVM, a profiler, a
/// thread-local allocator) and detach them again. Either may be empty. The
/// hooks are destroyed once no thread uses them any more. A hook must not
/// throw: an exception is reported on stderr and goes no further.
inline void set_thread_hooks(ThreadHook on_start, ThreadHook on_exit) {
  if (!on_start && !on_exit) {
    detail::call(appose_set_thread_hooks, nullptr, nullptr, nullptr, nullptr);
    return;
  }
  struct Hooks {
    ThreadHook start, exit;
    static void run(const ThreadHook& fn, const char* name) noexcept {
      if (!fn) return;
      try {
        fn(name != nullptr ? name : "");
      } catch (const std::exception& e) {
        std::fprintf(stderr, "appose: a thread hook threw: %s\n", e.what());
      } catch (...) {
        std::fprintf(stderr, "appose: a thread hook threw\n");
      }
    }
  };
  auto* hooks = new Hooks{std::move(on_start), std::move(on_exit)};
  detail::ErrorOut err;
  appose_status st = appose_set_thread_hooks(
      [](void* ud, const char* name) noexcept { Hooks::run(static_cast<Hooks*>(ud)->start, name); },
      [](void* ud, const char* name) noexcept { Hooks::run(static_cast<Hooks*>(ud)->exit, name); }, hooks,
      [](void* ud) noexcept { delete static_cast<Hooks*>(ud); }, err.out());
  if (st != APPOSE_STATUS_OK) {
    delete hooks;
    err.check(st);
  }
}

/// Removes the hooks: threads started from now on run none.
inline void clear_thread_hooks() { set_thread_hooks(nullptr, nullptr); }

}  // namespace appose

#endif  // APPOSE_THREADS_HPP
