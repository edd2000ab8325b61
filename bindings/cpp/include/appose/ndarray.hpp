// libappose C++ wrapper: n-dimensional arrays over shared memory.
// SPDX-License-Identifier: BSD-2-Clause
#ifndef APPOSE_NDARRAY_HPP
#define APPOSE_NDARRAY_HPP

#include <complex>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "appose/error.hpp"
#include "appose/shm.hpp"

namespace appose {

/// Element types (numpy names via `dtype_name`).
enum class DType : int {
  Int8 = APPOSE_DTYPE_INT8,
  Int16 = APPOSE_DTYPE_INT16,
  Int32 = APPOSE_DTYPE_INT32,
  Int64 = APPOSE_DTYPE_INT64,
  Uint8 = APPOSE_DTYPE_UINT8,
  Uint16 = APPOSE_DTYPE_UINT16,
  Uint32 = APPOSE_DTYPE_UINT32,
  Uint64 = APPOSE_DTYPE_UINT64,
  Float16 = APPOSE_DTYPE_FLOAT16,
  Float32 = APPOSE_DTYPE_FLOAT32,
  Float64 = APPOSE_DTYPE_FLOAT64,
  Complex64 = APPOSE_DTYPE_COMPLEX64,
  Complex128 = APPOSE_DTYPE_COMPLEX128,
  Bool = APPOSE_DTYPE_BOOL,
};

/// C order: last axis fastest (numpy's, the wire's). F order: first axis
/// fastest; such shapes are reversed on the way in and out.
enum class Order : int { C = APPOSE_ORDER_C, F = APPOSE_ORDER_F };

inline std::string dtype_name(DType d) { return appose_dtype_name(static_cast<int>(d)); }
inline size_t dtype_size(DType d) { return appose_dtype_size(static_cast<int>(d)); }

/// The dtype of a C++ element type (for typed views).
template <typename T>
struct dtype_of;
#define APPOSE_DTYPE_OF(T, D) \
  template <>                  \
  struct dtype_of<T> {         \
    static constexpr DType value = DType::D; \
  }
APPOSE_DTYPE_OF(int8_t, Int8);
APPOSE_DTYPE_OF(int16_t, Int16);
APPOSE_DTYPE_OF(int32_t, Int32);
APPOSE_DTYPE_OF(int64_t, Int64);
APPOSE_DTYPE_OF(uint8_t, Uint8);
APPOSE_DTYPE_OF(uint16_t, Uint16);
APPOSE_DTYPE_OF(uint32_t, Uint32);
APPOSE_DTYPE_OF(uint64_t, Uint64);
APPOSE_DTYPE_OF(float, Float32);
APPOSE_DTYPE_OF(double, Float64);
APPOSE_DTYPE_OF(std::complex<float>, Complex64);
APPOSE_DTYPE_OF(std::complex<double>, Complex128);
APPOSE_DTYPE_OF(bool, Bool);
#undef APPOSE_DTYPE_OF

/// An array: dtype and shape over a shared memory block. A 0-d array (shape
/// `{}`, numpy's `()`) holds one element. Move-only; a moved-from (or
/// released) array throws `Error` from every method.
class NDArray {
 public:
  /// A new array in a new block (unlinked with its last handle).
  NDArray(DType dtype, const std::vector<size_t>& shape, Order order = Order::C) {
    appose_ndarray* p = nullptr;
    detail::call(appose_ndarray_new, static_cast<int>(dtype), shape.data(), shape.size(),
                                     static_cast<int>(order), &p);
    h_ = Handle(p);
    load();
  }
  /// An array over an existing block (refused if it needs more bytes).
  static NDArray wrap(const SharedMemory& shm, DType dtype, const std::vector<size_t>& shape,
                      Order order = Order::C) {
    appose_ndarray* p = nullptr;
    detail::call(appose_ndarray_wrap, shm.capi(), static_cast<int>(dtype), shape.data(), shape.size(),
                                      static_cast<int>(order), &p);
    return NDArray(p);
  }
  /// Takes ownership of a C handle.
  explicit NDArray(appose_ndarray* handle) : h_(handle) { load(); }

  // An array's dtype, shape and memory never change: read once, kept here
  // (and trusted only while the handle is: `live` throws once it is gone).
  DType dtype() const { return live().dtype_; }
  size_t ndim() const { return live().shape_.size(); }
  /// The shape, listed in `order` (empty for a 0-d array).
  std::vector<size_t> shape(Order order = Order::C) const {
    const std::vector<size_t>& s = live().shape_;
    if (order == Order::C) return s;
    return std::vector<size_t>(s.rbegin(), s.rend());
  }
  /// Element strides of the C-order layout (the last is 1).
  std::vector<size_t> strides() const {
    std::vector<size_t> s = shape();
    size_t step = 1;
    for (size_t i = s.size(); i-- > 0;) {
      size_t extent = s[i];
      s[i] = step;
      step *= extent;
    }
    return s;
  }
  /// Number of elements (1 for a 0-d array).
  size_t size() const {
    size_t n = 1;
    for (size_t d : live().shape_) n *= d;
    return n;
  }
  size_t byte_length() const { return size() * dtype_size(dtype_); }
  void* data() const { return live().data_; }
  /// The elements as `T`; throws if `T` is not the array's dtype.
  template <typename T>
  T* data() const {
    if (dtype_of<T>::value != dtype()) {
      throw Error(APPOSE_STATUS_INVALID_ARGUMENT,
                  "the array holds " + dtype_name(dtype()) + ", not " + dtype_name(dtype_of<T>::value));
    }
    return static_cast<T*>(data());
  }
  /// A new handle to the array's block.
  SharedMemory shm() const {
    appose_shm* p = nullptr;
    detail::call(appose_ndarray_shm, h_.get(), &p);
    return SharedMemory(p);
  }

  appose_ndarray* capi() { return h_.get(); }
  const appose_ndarray* capi() const { return h_.get(); }
  appose_ndarray* release() { return h_.release(); }

 private:
  using Handle = detail::Owned<appose_ndarray, appose_ndarray_free>;

  const NDArray& live() const {
    (void)h_.get();
    return *this;
  }

  void load() {
    int d = 0;
    detail::call(appose_ndarray_dtype, h_.get(), &d);
    dtype_ = static_cast<DType>(d);
    size_t n = 0;
    detail::call(appose_ndarray_ndim, h_.get(), &n);
    shape_.resize(n);
    detail::call(appose_ndarray_shape, h_.get(), APPOSE_ORDER_C, shape_.data(), n);
    detail::call(appose_ndarray_data, h_.get(), &data_);
  }

  Handle h_;
  DType dtype_ = DType::Uint8;
  std::vector<size_t> shape_;
  void* data_ = nullptr;
};

}  // namespace appose

#endif  // APPOSE_NDARRAY_HPP
