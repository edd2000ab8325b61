// Every wrapper type used after it was moved from: each method throws a
// clear appose::Error (no crash, no leak under ASan), while destroying the
// moved-from object and moving into it again stay fine.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "appose/appose.hpp"

using namespace std::chrono_literals;

// Throws appose::Error with status INVALID_HANDLE and exactly `expected`.
#define EXPECT_USED_AFTER_MOVE(stmt, expected)                 \
  EXPECT_THROW(                                                \
      {                                                        \
        try {                                                  \
          (void)(stmt);                                        \
        } catch (const appose::Error& e) {                     \
          EXPECT_EQ(e.status(), APPOSE_STATUS_INVALID_HANDLE); \
          EXPECT_EQ(e.message(), expected);                    \
          throw;                                               \
        }                                                      \
      },                                                       \
      appose::Error)

namespace {

const std::string kEnv = "appose::Environment used after it was moved from or released";
const std::string kBuilder = "appose::Builder used after it was moved from";
const std::string kService = "appose::Service used after it was moved from";
const std::string kTask = "appose::Task used after it was moved from";
const std::string kShm = "appose::SharedMemory used after it was moved from or released";
const std::string kArray = "appose::NDArray used after it was moved from or released";
const std::string kMap = "appose::Map used after it was moved from or released";

}  // namespace

TEST(MovedFrom, Environment) {
  auto env = appose::Environment::wrap(APPOSE_TEST_PYTHON_ENV);
  const std::string base = env.base();
  appose::Environment other = std::move(env);
  EXPECT_USED_AFTER_MOVE(env.base(), kEnv);
  EXPECT_USED_AFTER_MOVE(env.bin_paths(), kEnv);
  EXPECT_USED_AFTER_MOVE(env.launch_args(), kEnv);
  EXPECT_USED_AFTER_MOVE(env.python(), kEnv);
  EXPECT_USED_AFTER_MOVE(env.groovy({"appose.jar"}), kEnv);
  EXPECT_USED_AFTER_MOVE(env.service({"python"}), kEnv);
  EXPECT_USED_AFTER_MOVE(env.capi(), kEnv);
  EXPECT_USED_AFTER_MOVE(env.release(), kEnv);
  EXPECT_EQ(other.base(), base);
  env = std::move(other);  // moving into it makes it whole again
  EXPECT_EQ(env.base(), base);
  appose_env* raw = env.release();
  EXPECT_USED_AFTER_MOVE(env.base(), kEnv);
  EXPECT_EQ(appose_env_free(raw), APPOSE_STATUS_OK);
}

TEST(MovedFrom, Builder) {
  appose::Builder b("custom");
  appose::Builder other = std::move(b);
  EXPECT_USED_AFTER_MOVE(b.build(), kBuilder);
  EXPECT_USED_AFTER_MOVE(b.rebuild(), kBuilder);
  EXPECT_USED_AFTER_MOVE(b.remove(), kBuilder);
  EXPECT_USED_AFTER_MOVE(b.install_tool(), kBuilder);
  EXPECT_USED_AFTER_MOVE(b.name("x"), kBuilder);
  EXPECT_USED_AFTER_MOVE(b.base("/tmp"), kBuilder);
  EXPECT_USED_AFTER_MOVE(b.env_var("A", "1"), kBuilder);
  EXPECT_USED_AFTER_MOVE(b.append_system_path(), kBuilder);
  // Callbacks given to a moved-from builder are not leaked (ASan checks).
  EXPECT_USED_AFTER_MOVE(b.on_progress([](const std::string&, uint64_t, uint64_t) {}), kBuilder);
  EXPECT_USED_AFTER_MOVE(b.on_output([](const std::string&) {}), kBuilder);
  EXPECT_USED_AFTER_MOVE(b.on_error([](const std::string&) {}), kBuilder);
  EXPECT_USED_AFTER_MOVE(b.capi(), kBuilder);
  b = std::move(other);
  auto env = b.base(APPOSE_TEST_PYTHON_ENV).build();
  EXPECT_EQ(env.base(), APPOSE_TEST_PYTHON_ENV);
}

TEST(MovedFrom, ServiceAndTask) {
  auto svc = appose::Environment::wrap(APPOSE_TEST_PYTHON_ENV).python();
  appose::Service live = std::move(svc);
  appose::Map inputs;
  EXPECT_USED_AFTER_MOVE(svc.init("x = 1"), kService);
  EXPECT_USED_AFTER_MOVE(svc.env_var("A", std::string("1")), kService);
  EXPECT_USED_AFTER_MOVE(svc.debug([](const std::string&) {}), kService);
  EXPECT_USED_AFTER_MOVE(svc.start(), kService);
  EXPECT_USED_AFTER_MOVE(svc.task("1"), kService);
  EXPECT_USED_AFTER_MOVE(svc.task("1", inputs), kService);
  EXPECT_USED_AFTER_MOVE(svc.task_json("1", "{}"), kService);
  EXPECT_USED_AFTER_MOVE(svc.close(1s), kService);
  EXPECT_USED_AFTER_MOVE(svc.kill(), kService);
  EXPECT_USED_AFTER_MOVE(svc.alive(), kService);
  EXPECT_USED_AFTER_MOVE(svc.pid(), kService);
  EXPECT_USED_AFTER_MOVE(svc.invalid_lines(), kService);
  EXPECT_USED_AFTER_MOVE(svc.error_lines(), kService);
  EXPECT_USED_AFTER_MOVE(svc.capi(), kService);

  auto t = live.task("6 * 7");
  appose::Task moved = std::move(t);
  EXPECT_USED_AFTER_MOVE(t.wait(), kTask);
  EXPECT_USED_AFTER_MOVE(t.wait_for(10ms), kTask);
  EXPECT_USED_AFTER_MOVE(t.listen([](const appose::TaskEvent&) {}), kTask);
  EXPECT_USED_AFTER_MOVE(t.start(), kTask);
  EXPECT_USED_AFTER_MOVE(t.cancel(), kTask);
  EXPECT_USED_AFTER_MOVE(t.status(), kTask);
  EXPECT_USED_AFTER_MOVE(t.outputs(), kTask);
  EXPECT_USED_AFTER_MOVE(t.outputs_json(), kTask);
  EXPECT_USED_AFTER_MOVE(t.result_json(), kTask);
  EXPECT_USED_AFTER_MOVE(t.error(), kTask);
  EXPECT_USED_AFTER_MOVE(t.id(), kTask);
  EXPECT_USED_AFTER_MOVE(t.capi(), kTask);
  moved.wait();
  EXPECT_EQ(moved.result_json(), "42");
  t = std::move(moved);
  EXPECT_EQ(t.result_json(), "42");

  svc = std::move(live);
  EXPECT_EQ(svc.close(10s), 0);
}

TEST(MovedFrom, SharedMemoryNDArrayAndMap) {
  auto shm = appose::SharedMemory::create(64);
  appose::SharedMemory shm2 = std::move(shm);
  EXPECT_USED_AFTER_MOVE(shm.name(), kShm);
  EXPECT_USED_AFTER_MOVE(shm.rsize(), kShm);
  EXPECT_USED_AFTER_MOVE(shm.size(), kShm);
  EXPECT_USED_AFTER_MOVE(shm.data(), kShm);
  EXPECT_USED_AFTER_MOVE(shm.unlink_on_free(), kShm);
  EXPECT_USED_AFTER_MOVE(shm.set_unlink_on_free(false), kShm);
  EXPECT_USED_AFTER_MOVE(shm.capi(), kShm);
  EXPECT_USED_AFTER_MOVE(shm.release(), kShm);
  EXPECT_USED_AFTER_MOVE(appose::NDArray::wrap(shm, appose::DType::Uint8, {4}), kShm);

  appose::NDArray a(appose::DType::Float32, {2, 3});
  appose::NDArray a2 = std::move(a);
  EXPECT_USED_AFTER_MOVE(a.dtype(), kArray);
  EXPECT_USED_AFTER_MOVE(a.ndim(), kArray);
  EXPECT_USED_AFTER_MOVE(a.shape(), kArray);
  EXPECT_USED_AFTER_MOVE(a.shape(appose::Order::F), kArray);
  EXPECT_USED_AFTER_MOVE(a.strides(), kArray);
  EXPECT_USED_AFTER_MOVE(a.size(), kArray);
  EXPECT_USED_AFTER_MOVE(a.byte_length(), kArray);
  EXPECT_USED_AFTER_MOVE(a.data(), kArray);
  EXPECT_USED_AFTER_MOVE(a.data<float>(), kArray);
  EXPECT_USED_AFTER_MOVE(a.shm(), kArray);
  EXPECT_USED_AFTER_MOVE(a.capi(), kArray);
  EXPECT_USED_AFTER_MOVE(a.release(), kArray);

  appose::Map m;
  EXPECT_USED_AFTER_MOVE(m.put("a", a), kArray);
  EXPECT_USED_AFTER_MOVE(m.put("s", shm), kShm);
  m.put("a", a2).put("s", shm2).put_json("n", "1");
  appose::Map m2 = std::move(m);
  EXPECT_USED_AFTER_MOVE(m.put_json("n", "2"), kMap);
  EXPECT_USED_AFTER_MOVE(m.put("a", a2), kMap);
  EXPECT_USED_AFTER_MOVE(m.put("s", shm2), kMap);
  EXPECT_USED_AFTER_MOVE(m.remove("n"), kMap);
  EXPECT_USED_AFTER_MOVE(m.size(), kMap);
  EXPECT_USED_AFTER_MOVE(m.keys(), kMap);
  EXPECT_USED_AFTER_MOVE(m.contains("n"), kMap);
  EXPECT_USED_AFTER_MOVE(m.get_json("n"), kMap);
  EXPECT_USED_AFTER_MOVE(m.get_ndarray("a"), kMap);
  EXPECT_USED_AFTER_MOVE(m.get_shm("s"), kMap);
  EXPECT_USED_AFTER_MOVE(m.get_worker_object("w"), kMap);
  EXPECT_USED_AFTER_MOVE(m.to_json(), kMap);
  EXPECT_USED_AFTER_MOVE(m.capi(), kMap);
  EXPECT_USED_AFTER_MOVE(m.release(), kMap);
  EXPECT_EQ(m2.size(), 3u);

  // Moving into each makes it whole again.
  shm = std::move(shm2);
  a = std::move(a2);
  m = std::move(m2);
  EXPECT_EQ(shm.rsize(), 64u);
  EXPECT_EQ(a.shape(), (std::vector<size_t>{2, 3}));
  EXPECT_EQ(m.get_ndarray("a").size(), 6u);
}
