// libappose C++ wrapper: maps of named values (task inputs and outputs).
// SPDX-License-Identifier: BSD-2-Clause
#ifndef APPOSE_VALUE_HPP
#define APPOSE_VALUE_HPP

#include <string>
#include <vector>

#include "appose/error.hpp"
#include "appose/ndarray.hpp"
#include "appose/shm.hpp"

namespace appose {

/// Named values: JSON text, arrays and blocks (shared, never copied).
/// Move-only; a moved-from (or released) map throws `Error` from every
/// method.
class Map {
 public:
  Map() {
    appose_map* p = nullptr;
    detail::call(appose_map_new, &p);
    h_ = Handle(p);
  }
  /// A map from a JSON object's text (`appose_type` objects are decoded).
  static Map from_json(const std::string& json) {
    appose_map* p = nullptr;
    detail::call(appose_map_from_json, json.c_str(), &p);
    return Map(p);
  }
  /// Takes ownership of a C handle.
  explicit Map(appose_map* handle) noexcept : h_(handle) {}

  /// Sets `key` to a JSON value (`"3"`, `"[1, 2]"`, `"\"text\""`, ...).
  Map& put_json(const std::string& key, const std::string& json) {
    detail::call(appose_map_put_json, h_.get(), key.c_str(), json.c_str());
    return *this;
  }
  Map& put(const std::string& key, const NDArray& array) {
    detail::call(appose_map_put_ndarray, h_.get(), key.c_str(), array.capi());
    return *this;
  }
  Map& put(const std::string& key, const SharedMemory& shm) {
    detail::call(appose_map_put_shm, h_.get(), key.c_str(), shm.capi());
    return *this;
  }
  void remove(const std::string& key) { detail::call(appose_map_remove, h_.get(), key.c_str()); }

  size_t size() const {
    size_t n = 0;
    detail::call(appose_map_len, h_.get(), &n);
    return n;
  }
  std::vector<std::string> keys() const {
    std::vector<std::string> out;
    for (size_t i = 0, n = size(); i < n; ++i) {
      char* k = nullptr;
      detail::call(appose_map_key, h_.get(), i, &k);
      out.push_back(detail::take(k));
    }
    return out;
  }
  bool contains(const std::string& key) const {
    char* s = nullptr;
    detail::ErrorOut err;
    appose_status st = appose_map_get_json(h_.get(), key.c_str(), &s, err.out());
    appose_string_free(st == APPOSE_STATUS_OK ? s : nullptr);
    if (st == APPOSE_STATUS_NOT_FOUND) return false;
    err.check(st);
    return true;
  }
  /// The value of `key` as JSON text.
  std::string get_json(const std::string& key) const {
    char* s = nullptr;
    detail::call(appose_map_get_json, h_.get(), key.c_str(), &s);
    return detail::take(s);
  }
  NDArray get_ndarray(const std::string& key) const {
    appose_ndarray* p = nullptr;
    detail::call(appose_map_get_ndarray, h_.get(), key.c_str(), &p);
    return NDArray(p);
  }
  SharedMemory get_shm(const std::string& key) const {
    appose_shm* p = nullptr;
    detail::call(appose_map_get_shm, h_.get(), key.c_str(), &p);
    return SharedMemory(p);
  }
  /// The worker-side variable name of a worker object.
  std::string get_worker_object(const std::string& key) const {
    char* s = nullptr;
    detail::call(appose_map_get_worker_object, h_.get(), key.c_str(), &s);
    return detail::take(s);
  }
  /// The whole map, encoded as the worker receives it.
  std::string to_json() const {
    char* s = nullptr;
    detail::call(appose_map_to_json, h_.get(), &s);
    return detail::take(s);
  }

  appose_map* capi() { return h_.get(); }
  const appose_map* capi() const { return h_.get(); }
  appose_map* release() { return h_.release(); }

 private:
  using Handle = detail::Owned<appose_map, appose_map_free>;
  Handle h_;
};

}  // namespace appose

#endif  // APPOSE_VALUE_HPP
