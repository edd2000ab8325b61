// libappose C++ wrapper: shared memory blocks.
// SPDX-License-Identifier: BSD-2-Clause
#ifndef APPOSE_SHM_HPP
#define APPOSE_SHM_HPP

#include <cstddef>
#include <string>

#include "appose/error.hpp"

namespace appose {

/// A shared memory block. Blocks this library creates (and blocks a worker
/// returns) are unlinked when their last handle goes, unless
/// `set_unlink_on_free(false)`; blocks attached by name only unmap.
/// Move-only; a moved-from (or released) block throws `Error` from every
/// method.
class SharedMemory {
 public:
  /// A new block of `rsize` bytes named `psm_` + 8 random hex digits.
  static SharedMemory create(size_t rsize) {
    appose_shm* p = nullptr;
    detail::call(appose_shm_create, rsize, &p);
    return SharedMemory(p);
  }
  /// A new block with a given name (no leading slash).
  static SharedMemory create_named(const std::string& name, size_t rsize) {
    appose_shm* p = nullptr;
    detail::call(appose_shm_create_named, name.c_str(), rsize, &p);
    return SharedMemory(p);
  }
  /// An existing block, its size read from the block.
  static SharedMemory attach(const std::string& name) {
    appose_shm* p = nullptr;
    detail::call(appose_shm_attach, name.c_str(), &p);
    return SharedMemory(p);
  }

  /// Takes ownership of a C handle.
  explicit SharedMemory(appose_shm* handle) noexcept : h_(handle) {}

  std::string name() const {
    char* s = nullptr;
    detail::call(appose_shm_name, h_.get(), &s);
    return detail::take(s);
  }
  size_t rsize() const {
    size_t n = 0;
    detail::call(appose_shm_rsize, h_.get(), &n);
    return n;
  }
  size_t size() const {
    size_t n = 0;
    detail::call(appose_shm_size, h_.get(), &n);
    return n;
  }
  void* data() const {
    void* p = nullptr;
    detail::call(appose_shm_data, h_.get(), &p);
    return p;
  }
  bool unlink_on_free() const {
    bool b = false;
    detail::call(appose_shm_unlink_on_free, h_.get(), &b);
    return b;
  }
  void set_unlink_on_free(bool unlink) { detail::call(appose_shm_set_unlink_on_free, h_.get(), unlink); }

  appose_shm* capi() { return h_.get(); }
  const appose_shm* capi() const { return h_.get(); }
  appose_shm* release() { return h_.release(); }

 private:
  detail::Owned<appose_shm, appose_shm_free> h_;
};

}  // namespace appose

#endif  // APPOSE_SHM_HPP
