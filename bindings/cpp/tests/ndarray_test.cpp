// Arrays through the C++ wrapper against the real Python worker (numpy).
#include <gtest/gtest.h>

#include <chrono>
#include <complex>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "appose/appose.hpp"

using namespace std::chrono_literals;

namespace {

appose::Service python() { return appose::Environment::wrap(APPOSE_TEST_PYTHON_ENV).python(); }

template <typename T>
void fill(appose::NDArray& a) {
  T* p = a.data<T>();
  for (size_t i = 0; i < a.size(); ++i) p[i] = static_cast<T>(i % 2 == 0);
}

}  // namespace

TEST(NDArray, EveryDtypeReachesTheWorkerIntact) {
  auto svc = python();
  struct Case {
    appose::DType dtype;
    std::string name;
  };
  std::vector<Case> cases = {
      {appose::DType::Int8, "int8"},       {appose::DType::Int16, "int16"},
      {appose::DType::Int32, "int32"},     {appose::DType::Int64, "int64"},
      {appose::DType::Uint8, "uint8"},     {appose::DType::Uint16, "uint16"},
      {appose::DType::Uint32, "uint32"},   {appose::DType::Uint64, "uint64"},
      {appose::DType::Float16, "float16"}, {appose::DType::Float32, "float32"},
      {appose::DType::Float64, "float64"}, {appose::DType::Complex64, "complex64"},
      {appose::DType::Complex128, "complex128"}, {appose::DType::Bool, "bool"},
  };
  for (const auto& c : cases) {
    appose::NDArray a(c.dtype, {3, 4});
    EXPECT_EQ(appose::dtype_name(c.dtype), c.name);
    switch (c.dtype) {
      case appose::DType::Int8: fill<int8_t>(a); break;
      case appose::DType::Int16: fill<int16_t>(a); break;
      case appose::DType::Int32: fill<int32_t>(a); break;
      case appose::DType::Int64: fill<int64_t>(a); break;
      case appose::DType::Uint8: fill<uint8_t>(a); break;
      case appose::DType::Uint16: fill<uint16_t>(a); break;
      case appose::DType::Uint32: fill<uint32_t>(a); break;
      case appose::DType::Uint64: fill<uint64_t>(a); break;
      case appose::DType::Float32: fill<float>(a); break;
      case appose::DType::Float64: fill<double>(a); break;
      case appose::DType::Complex64: fill<std::complex<float>>(a); break;
      case appose::DType::Complex128: fill<std::complex<double>>(a); break;
      case appose::DType::Bool: fill<bool>(a); break;
      case appose::DType::Float16: {
        auto* p = static_cast<uint16_t*>(a.data());
        for (size_t i = 0; i < a.size(); ++i) p[i] = i % 2 == 0 ? 0x3C00 : 0;  // 1.0 or 0.0
        break;
      }
    }
    appose::Map inputs;
    inputs.put("a", a);
    auto task = svc.task("v = a.ndarray()\n{'dtype': str(v.dtype), 'shape': list(v.shape), 'ones': int((v == 1).sum())}",
                         inputs);
    task.wait();
    auto out = task.outputs();
    EXPECT_EQ(out.get_json("dtype"), "\"" + c.name + "\"") << c.name;
    EXPECT_EQ(out.get_json("shape"), "[3,4]") << c.name;
    EXPECT_EQ(out.get_json("ones"), "6") << c.name;
  }
  EXPECT_EQ(svc.close(10s), 0);
}

TEST(NDArray, TheWorkerWritesInPlaceAndReturnsItsOwnArray) {
  auto svc = python();
  appose::NDArray image(appose::DType::Float32, {640, 480}, appose::Order::F);  // width, height
  EXPECT_EQ(image.shape(), (std::vector<size_t>{480, 640}));
  EXPECT_EQ(image.shape(appose::Order::F), (std::vector<size_t>{640, 480}));
  EXPECT_EQ(image.strides(), (std::vector<size_t>{640, 1}));
  float* px = image.data<float>();
  for (size_t i = 0; i < image.size(); ++i) px[i] = 1.0f;
  EXPECT_THROW(image.data<double>(), appose::Error);

  appose::Map inputs;
  inputs.put("image", image).put_json("gain", "3");
  auto task = svc.task(
      "from appose import NDArray\n"
      "v = image.ndarray()\n"
      "v *= gain\n"
      "row = NDArray('float64', [v.shape[1]])\n"
      "row.ndarray()[:] = v[0] + 0.5\n"
      "{'row': row}",
      inputs);
  task.wait();
  EXPECT_EQ(px[0], 3.0f);
  EXPECT_EQ(px[image.size() - 1], 3.0f);
  auto row = task.outputs().get_ndarray("row");
  EXPECT_EQ(row.dtype(), appose::DType::Float64);
  EXPECT_EQ(row.shape(), std::vector<size_t>{640});
  EXPECT_EQ(row.data<double>()[639], 3.5);
  EXPECT_TRUE(row.shm().unlink_on_free());
  EXPECT_EQ(svc.close(10s), 0);
}

TEST(NDArray, BlocksAndMapsRefuseBadUse) {
  auto shm = appose::SharedMemory::create(100);
  EXPECT_EQ(shm.rsize(), 100u);
  EXPECT_EQ(shm.name().rfind("psm_", 0), 0u);
  std::memset(shm.data(), 7, 100);
  auto again = appose::SharedMemory::attach(shm.name());
  EXPECT_EQ(static_cast<unsigned char*>(again.data())[99], 7);
  try {
    appose::NDArray::wrap(shm, appose::DType::Float64, {13});
    FAIL() << "a view larger than its block was accepted";
  } catch (const appose::Error& e) {
    EXPECT_EQ(e.status(), APPOSE_STATUS_INVALID_ARGUMENT);
  }
  EXPECT_THROW(appose::SharedMemory::attach("psm_0badf00d"), appose::Error);
  appose::Map m;
  m.put("block", shm).put_json("n", "1");
  EXPECT_EQ(m.size(), 2u);
  EXPECT_EQ(m.keys(), (std::vector<std::string>{"block", "n"}));
  EXPECT_TRUE(m.contains("n"));
  EXPECT_FALSE(m.contains("nope"));
  EXPECT_THROW(m.get_ndarray("n"), appose::Error);
  EXPECT_EQ(m.get_shm("block").name(), shm.name());
}

TEST(NDArray, AZeroDimensionalArrayHoldsOneElementBothWays) {
  appose::NDArray a(appose::DType::Float64, {});
  EXPECT_EQ(a.ndim(), 0u);
  EXPECT_TRUE(a.shape().empty());
  EXPECT_TRUE(a.shape(appose::Order::F).empty());
  EXPECT_TRUE(a.strides().empty());
  EXPECT_EQ(a.size(), 1u);
  EXPECT_EQ(a.byte_length(), 8u);
  a.data<double>()[0] = 2.5;
  appose::Map inputs;
  inputs.put("x", a);
  EXPECT_NE(inputs.to_json().find(R"("dtype":"float64","shape":[],)"), std::string::npos);

  auto svc = python();
  auto task = svc.task(
      "from appose import NDArray\n"
      "v = x.ndarray()\n"
      "out = NDArray('int32', [])\n"
      "out.ndarray()[()] = int(v * 4)\n"
      "v[()] = v * 2\n"
      "{'shape': list(v.shape), 'out': out}",
      inputs);
  task.wait();
  EXPECT_EQ(a.data<double>()[0], 5.0);  // numpy's () array over our element
  auto outputs = task.outputs();
  EXPECT_EQ(outputs.get_json("shape"), "[]");
  auto out = outputs.get_ndarray("out");
  EXPECT_EQ(out.ndim(), 0u);
  EXPECT_EQ(out.size(), 1u);
  EXPECT_EQ(out.data<int32_t>()[0], 10);
  EXPECT_EQ(svc.close(10s), 0);
}
