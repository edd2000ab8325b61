// libappose C++ wrapper: environment builders.
// SPDX-License-Identifier: BSD-2-Clause
#ifndef APPOSE_BUILDER_HPP
#define APPOSE_BUILDER_HPP

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "appose/environment.hpp"
#include "appose/error.hpp"
#include "appose/queue.hpp"

namespace appose {

/// Builds (or reuses) an environment: "uv", "pixi", "mamba", "custom", or
/// "dynamic" (picks one from the content). Callbacks run on the thread
/// calling `build`; an exception they throw is rethrown by `build`.
/// Move-only; a moved-from builder throws `Error` from every method.
class Builder {
 public:
  using Progress = std::function<void(const std::string& title, uint64_t current, uint64_t maximum)>;
  using Lines = std::function<void(const std::string& line)>;

  explicit Builder(const std::string& kind = "dynamic") : errors_(std::make_shared<detail::CallbackErrors>()) {
    appose_builder* p = nullptr;
    detail::call(appose_builder_new, kind.c_str(), &p);
    h_ = Handle(p);
  }

  Builder& name(const std::string& v) { return set(appose_builder_name, v); }
  Builder& base(const std::string& v) { return set(appose_builder_base, v); }
  Builder& envs_root(const std::string& v) { return set(appose_builder_envs_root, v); }
  Builder& content(const std::string& v) { return set(appose_builder_content, v); }
  Builder& file(const std::string& v) { return set(appose_builder_file, v); }
  Builder& url(const std::string& v) { return set(appose_builder_url, v); }
  Builder& scheme(const std::string& v) { return set(appose_builder_scheme, v); }
  Builder& channel(const std::string& v) { return set(appose_builder_channel, v); }
  Builder& flag(const std::string& v) { return set(appose_builder_flag, v); }
  Builder& python_version(const std::string& v) { return set(appose_builder_python_version, v); }
  Builder& package(const std::string& v) { return set(appose_builder_package, v); }
  Builder& conda(const std::string& v) { return set(appose_builder_conda, v); }
  Builder& pypi(const std::string& v) { return set(appose_builder_pypi, v); }
  Builder& pixi_environment(const std::string& v) { return set(appose_builder_pixi_environment, v); }
  Builder& bin_path(const std::string& v) { return set(appose_builder_bin_path, v); }
  Builder& tool_mirror(const std::string& v) { return set(appose_builder_tool_mirror, v); }
  Builder& tool_sha256(const std::string& v) { return set(appose_builder_tool_sha256, v); }
  Builder& env_var(const std::string& key, const std::string& value) {
    detail::call(appose_builder_env_var, h_.get(), key.c_str(), value.c_str());
    return *this;
  }
  Builder& append_system_path() {
    detail::call(appose_builder_append_system_path, h_.get());
    return *this;
  }

  Builder& on_progress(Progress fn) {
    using Box = detail::Boxed<Progress>;
    appose_builder* h = h_.get();  // first: a moved-from builder throws before the box exists
    auto* box = new Box{std::move(fn), errors_};
    detail::ErrorOut err;
    register_box(box, err, appose_builder_on_progress(
                          h,
                          [](void* ud, const char* title, uint64_t cur, uint64_t max) noexcept {
                            Box::invoke(ud, std::string(title), cur, max);
                          },
                          box, &Box::destroy, err.out()));
    return *this;
  }
  Builder& on_output(Lines fn) { return lines(std::move(fn), appose_builder_on_output); }
  Builder& on_error(Lines fn) { return lines(std::move(fn), appose_builder_on_error); }

  /// Builds without blocking: progress, the tools' lines and then one
  /// `EventKind::Built` event arrive in `queue`, tagged `tag`.
  void build_async(Queue& queue, uint64_t tag) {
    detail::call(appose_builder_build_async, h_.get(), queue.capi(), tag);
  }
  /// Builds, or reuses the environment when unchanged.
  Environment build() { return finish(appose_builder_build); }
  /// Deletes the environment, then builds it.
  Environment rebuild() { return finish(appose_builder_rebuild); }
  /// Deletes the environment's directory, if it exists. Only an environment
  /// (appose.json, .pixi/, pixi.toml, conda-meta/, pyvenv.cfg or
  /// .venv/pyvenv.cfg) or an empty directory is deleted, and never /, the
  /// current directory, HOME, the envs root or a directory holding one.
  void remove() { detail::call(appose_builder_delete, h_.get()); }
  /// Installs the builder's tool into the envs root; returns its path.
  std::string install_tool() {
    char* s = nullptr;
    detail::ErrorOut err;
    appose_status st = appose_builder_install_tool(h_.get(), &s, err.out());
    errors_->rethrow();
    err.check(st);
    return detail::take(s);
  }

  appose_builder* capi() { return h_.get(); }
  const appose_builder* capi() const { return h_.get(); }

 private:
  using Handle = detail::Owned<appose_builder, appose_builder_free>;
  using Setter = appose_status (*)(appose_builder*, const char*, appose_error**);
  using LineSetter = appose_status (*)(appose_builder*, appose_line_listener, void*, appose_userdata_free,
                                       appose_error**);

  Builder& set(Setter f, const std::string& v) {
    detail::call(f, h_.get(), v.c_str());
    return *this;
  }
  template <typename Box>
  static void register_box(Box* box, const detail::ErrorOut& err, appose_status st) {
    if (st != APPOSE_STATUS_OK) {
      delete box;
      err.check(st);
    }
  }
  Builder& lines(Lines fn, LineSetter setter) {
    using Box = detail::Boxed<Lines>;
    appose_builder* h = h_.get();  // first: a moved-from builder throws before the box exists
    auto* box = new Box{std::move(fn), errors_};
    detail::ErrorOut err;
    register_box(box, err, setter(
                          h, [](void* ud, const char* line) noexcept { Box::invoke(ud, std::string(line)); },
                          box, &Box::destroy, err.out()));
    return *this;
  }
  Environment finish(appose_status (*op)(appose_builder*, appose_env**, appose_error**)) {
    appose_env* p = nullptr;
    detail::ErrorOut err;
    appose_status st = op(h_.get(), &p, err.out());
    Environment env(st == APPOSE_STATUS_OK ? p : nullptr);
    errors_->rethrow();
    err.check(st);
    return env;
  }

  Handle h_;
  std::shared_ptr<detail::CallbackErrors> errors_;
};

}  // namespace appose

#endif  // APPOSE_BUILDER_HPP
