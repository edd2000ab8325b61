// Values, worker objects, variables, calls and event queues through the
// C++ wrapper against the real Python worker.
#include <gtest/gtest.h>

#include <poll.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "appose/appose.hpp"

using namespace std::chrono_literals;

namespace {

appose::Service python() { return appose::Environment::wrap(APPOSE_TEST_PYTHON_ENV).python(); }

struct Closing {
  appose::Service& svc;
  ~Closing() {
    try {
      svc.close(10s);
    } catch (...) {
    }
  }
};

appose::Value run(appose::Service& svc, const std::string& script) {
  appose::Task t = svc.task(script);
  t.wait();
  return t.result();
}

}  // namespace

TEST(Value, ANestedResultIsTypedAtEveryDepth) {
  appose::Service svc = python();
  Closing closing{svc};
  appose::Value v = run(svc,
                        "import appose\n"
                        "a = appose.NDArray('int32', [3])\n"
                        "a.ndarray()[:] = [5, 6, 7]\n"
                        "task.outputs['result'] = {'name': 'x', 'big': 2**70, 'items': [1.5, None, [a]]}");
  EXPECT_EQ(v.kind(), appose::ValueKind::Object);
  EXPECT_EQ(v.keys(), (std::vector<std::string>{"name", "big", "items"}));
  EXPECT_EQ(v["name"].as_string(), "x");
  EXPECT_EQ(v["big"].number_text(), "1180591620717411303424");
  EXPECT_THROW(v["big"].as_int64(), appose::Error);
  EXPECT_FALSE(v.get("missing").has_value());
  EXPECT_TRUE(v["items"][1].is_null());
  appose::NDArray a = v["items"][2][0].ndarray();
  EXPECT_EQ(a.data<int32_t>()[2], 7);
}

TEST(WorkerObject, ADatetimeThroughAttributesMethodsAndCalls) {
  appose::Service svc = python();
  Closing closing{svc};
  appose::WorkerObject dt(run(svc, "import datetime\ndatetime.datetime(2024, 5, 17, 10, 30)"));
  EXPECT_EQ(dt.attr("year").as_int64(), 2024);
  EXPECT_EQ(dt.invoke("isoformat").as_string(), "2024-05-17T10:30:00");
  auto names = dt.dir();
  EXPECT_NE(std::find(names.begin(), names.end(), "weekday"), names.end());
  appose::Value arg = dt.as_value();
  EXPECT_EQ(svc.call("str", {&arg}).as_string(), "2024-05-17 10:30:00");
  try {
    dt.attr("nope");
    FAIL() << "a missing attribute must throw";
  } catch (const appose::Error& e) {
    EXPECT_EQ(e.status(), APPOSE_STATUS_TASK_FAILED);
    EXPECT_NE(e.message().find("AttributeError"), std::string::npos);
  }
}

TEST(Service, VariablesAndCalls) {
  appose::Service svc = python();
  Closing closing{svc};
  svc.put_var("threshold", appose::Value::from_json("[1, 2, 3]"));
  EXPECT_EQ(svc.get_var("threshold").json(), "[1,2,3]");
  appose::Value a = appose::Value::from_json("3"), b = appose::Value::from_json("9");
  EXPECT_EQ(svc.call("max", {&a, &b}).as_int64(), 9);
  appose::Task t = svc.call_task("min", {&a, &b});
  t.wait();
  EXPECT_EQ(t.result().as_int64(), 3);
}

TEST(Queue, TasksOfTwoServicesAndACloseThroughOneQueue) {
  appose::Service s1 = python(), s2 = python();
  appose::Queue q;
  s1.listen(q, 1);
  s2.listen(q, 2);
  std::vector<appose::Task> tasks;
  for (int i = 0; i < 50; i++) {
    appose::Service& s = i % 2 == 0 ? s1 : s2;
    tasks.push_back(s.task("task.update(current=1)\ntask.outputs['result'] = " + std::to_string(i)));
    tasks.back().start();
  }
  std::map<std::string, std::vector<int32_t>> seen;
  int ended = 0;
  auto deadline = std::chrono::steady_clock::now() + 60s;
  while (ended < 50 && std::chrono::steady_clock::now() < deadline) {
    pollfd p{q.fd(), POLLIN, 0};
    poll(&p, 1, 1000);
    for (const appose::Event& e : q.take()) {
      ASSERT_EQ(e.kind, appose::EventKind::Task);
      seen[e.task_id].push_back(e.response_type);
      if (e.response_type == APPOSE_RESPONSE_COMPLETION) ended++;
    }
  }
  ASSERT_EQ(ended, 50);
  for (auto& [id, types] : seen) {
    EXPECT_EQ(types, (std::vector<int32_t>{APPOSE_RESPONSE_LAUNCH, APPOSE_RESPONSE_UPDATE,
                                           APPOSE_RESPONSE_COMPLETION}))
        << id;
  }
  s1.close_async(10s, q, 7);
  s2.close_async(10s, q, 8);
  int closed = 0;
  deadline = std::chrono::steady_clock::now() + 60s;
  while (closed < 2 && std::chrono::steady_clock::now() < deadline) {
    pollfd p{q.fd(), POLLIN, 0};
    poll(&p, 1, 1000);
    for (const appose::Event& e : q.take()) {
      if (e.kind == appose::EventKind::Closed) {
        EXPECT_EQ(e.status, APPOSE_STATUS_OK);
        EXPECT_EQ(e.exit_code, 0);
        EXPECT_TRUE(e.tag == 7 || e.tag == 8);
        closed++;
      }
    }
  }
  EXPECT_EQ(closed, 2);
}
