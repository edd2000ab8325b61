// libappose C++ wrapper: maps of named values (task inputs and outputs).
// SPDX-License-Identifier: BSD-2-Clause
#ifndef APPOSE_VALUE_HPP
#define APPOSE_VALUE_HPP

#include <cstdint>
#include <optional>
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

/// The kind of a `Value`.
enum class ValueKind : int32_t {
  Null = APPOSE_VALUE_NULL,
  Bool = APPOSE_VALUE_BOOL,
  Number = APPOSE_VALUE_NUMBER,
  String = APPOSE_VALUE_STRING,
  Array = APPOSE_VALUE_ARRAY,
  Object = APPOSE_VALUE_OBJECT,
  Shm = APPOSE_VALUE_SHM,
  NDArray = APPOSE_VALUE_NDARRAY,
  WorkerObject = APPOSE_VALUE_WORKER_OBJECT,
};

/// A read-only value at any depth of a result, an output or an event's
/// info (arrays, blocks and worker objects typed). Items and members are
/// new `Value`s sharing the whole; cheap to make. Move-only.
class Value {
 public:
  /// A value from JSON text (`appose_type` objects decoded).
  static Value from_json(const std::string& json) {
    appose_value* p = nullptr;
    detail::call(appose_value_from_json, json.c_str(), &p);
    return Value(p);
  }
  /// A value holding an array (sharing its block), e.g. an argument.
  static Value of(const NDArray& array) {
    appose_value* p = nullptr;
    detail::call(appose_value_from_ndarray, array.capi(), &p);
    return Value(p);
  }
  /// Takes ownership of a C handle.
  explicit Value(appose_value* handle) noexcept : h_(handle) {}

  ValueKind kind() const {
    int32_t k = 0;
    detail::call(appose_value_get_kind, h_.get(), &k);
    return static_cast<ValueKind>(k);
  }
  bool is_null() const { return kind() == ValueKind::Null; }
  bool as_bool() const {
    int32_t b = 0;
    detail::call(appose_value_bool, h_.get(), &b);
    return b != 0;
  }
  /// An integer that fits in 64 bits (throws otherwise: see `number_text`).
  int64_t as_int64() const {
    int64_t i = 0;
    detail::call(appose_value_i64, h_.get(), &i);
    return i;
  }
  double as_double() const {
    double d = 0;
    detail::call(appose_value_f64, h_.get(), &d);
    return d;
  }
  /// A number's exact text (wide integers, `NaN`, ...).
  std::string number_text() const {
    char* s = nullptr;
    detail::call(appose_value_number_text, h_.get(), &s);
    return detail::take(s);
  }
  std::string as_string() const {
    char* s = nullptr;
    detail::call(appose_value_string, h_.get(), &s);
    return detail::take(s);
  }
  /// Items of an array, members of an object.
  size_t size() const {
    size_t n = 0;
    detail::call(appose_value_len, h_.get(), &n);
    return n;
  }
  /// Item `i` of an array (member `i` of an object).
  Value operator[](size_t i) const {
    appose_value* p = nullptr;
    detail::call(appose_value_at, h_.get(), i, &p);
    return Value(p);
  }
  /// Member `key` of an object (throws `Error` NOT_FOUND when absent).
  Value operator[](const std::string& key) const {
    appose_value* p = nullptr;
    detail::call(appose_value_get, h_.get(), key.c_str(), &p);
    return Value(p);
  }
  /// Member `key` of an object, if present.
  std::optional<Value> get(const std::string& key) const {
    appose_value* p = nullptr;
    detail::ErrorOut err;
    appose_status st = appose_value_get(h_.get(), key.c_str(), &p, err.out());
    if (st == APPOSE_STATUS_NOT_FOUND) return std::nullopt;
    err.check(st);
    return Value(p);
  }
  std::vector<std::string> keys() const {
    std::vector<std::string> out;
    for (size_t i = 0, n = size(); i < n; ++i) {
      char* k = nullptr;
      detail::call(appose_value_key, h_.get(), i, &k);
      out.push_back(detail::take(k));
    }
    return out;
  }
  NDArray ndarray() const {
    appose_ndarray* p = nullptr;
    detail::call(appose_value_ndarray, h_.get(), &p);
    return NDArray(p);
  }
  SharedMemory shm() const {
    appose_shm* p = nullptr;
    detail::call(appose_value_shm, h_.get(), &p);
    return SharedMemory(p);
  }
  /// The value as JSON text.
  std::string json() const {
    char* s = nullptr;
    detail::call(appose_value_to_json, h_.get(), &s);
    return detail::take(s);
  }

  appose_value* capi() { return h_.get(); }
  const appose_value* capi() const { return h_.get(); }

 private:
  detail::Owned<appose_value, appose_value_free> h_;
};

}  // namespace appose

#endif  // APPOSE_VALUE_HPP
