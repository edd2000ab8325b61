// libappose C++ wrapper: environments.
// SPDX-License-Identifier: BSD-2-Clause
#ifndef APPOSE_ENVIRONMENT_HPP
#define APPOSE_ENVIRONMENT_HPP

#include <string>
#include <vector>

#include "appose/error.hpp"
#include "appose/service.hpp"

namespace appose {

/// Where a worker runs and how it is launched. Move-only; a moved-from (or
/// released) environment throws `Error` from every method.
class Environment {
 public:
  /// Executables on PATH, based in the current directory.
  static Environment system() {
    appose_env* p = nullptr;
    detail::call(appose_env_system, &p);
    return Environment(p);
  }
  /// An existing environment directory, its kind detected (pixi, conda,
  /// venv, plain). Installs nothing.
  static Environment wrap(const std::string& dir) {
    appose_env* p = nullptr;
    detail::call(appose_env_wrap, dir.c_str(), &p);
    return Environment(p);
  }
  /// Takes ownership of a C handle.
  explicit Environment(appose_env* handle) noexcept : h_(handle) {}

  std::string base() const {
    char* s = nullptr;
    detail::call(appose_env_base, h_.get(), &s);
    return detail::take(s);
  }
  std::vector<std::string> bin_paths() const {
    char* s = nullptr;
    detail::call(appose_env_bin_paths, h_.get(), &s);
    return detail::parse_string_array(detail::take(s));
  }
  /// The launcher before every worker command (`pixi run ...`), or empty.
  std::vector<std::string> launch_args() const {
    char* s = nullptr;
    detail::call(appose_env_launch_args, h_.get(), &s);
    return detail::parse_string_array(detail::take(s));
  }

  /// A Python worker service (not started yet).
  Service python() const {
    appose_service* p = nullptr;
    detail::call(appose_env_python, h_.get(), &p);
    return Service(p);
  }
  /// A Groovy worker; the class path must hold the appose jar and Groovy.
  Service groovy(const std::vector<std::string>& classpath, const std::vector<std::string>& jvm_args = {}) const {
    auto cp = detail::c_strings(classpath);
    auto jvm = detail::c_strings(jvm_args);
    appose_service* p = nullptr;
    detail::call(appose_env_groovy, h_.get(), cp.data(), cp.size(), jvm.data(), jvm.size(), &p);
    return Service(p);
  }
  /// Any program: the first of `candidates` found, then `args`.
  Service service(const std::vector<std::string>& candidates, const std::vector<std::string>& args = {}) const {
    auto c = detail::c_strings(candidates);
    auto a = detail::c_strings(args);
    appose_service* p = nullptr;
    detail::call(appose_env_service, h_.get(), c.data(), c.size(), a.data(), a.size(), &p);
    return Service(p);
  }

  appose_env* capi() { return h_.get(); }
  const appose_env* capi() const { return h_.get(); }
  appose_env* release() { return h_.release(); }

 private:
  detail::Owned<appose_env, appose_env_free> h_;
};

}  // namespace appose

#endif  // APPOSE_ENVIRONMENT_HPP
