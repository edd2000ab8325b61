// Tasks through the C++ wrapper against the real Python worker.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <chrono>
#include <fstream>
#include <iterator>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include <unistd.h>

#include "appose/appose.hpp"

using namespace std::chrono_literals;

namespace {

appose::Service python() { return appose::Environment::wrap(APPOSE_TEST_PYTHON_ENV).python(); }

/// Closes the service whatever happens in the test.
struct Closing {
  appose::Service& svc;
  ~Closing() {
    try {
      svc.close(10s);
    } catch (...) {
    }
  }
};

const char* kCollatz =
    "time = 0\n"
    "v = 9999\n"
    "while v != 1:\n"
    "    v = v//2 if v%2==0 else 3*v+1\n"
    "    task.update(f\"[{time}] -> {v}\", current=time)\n"
    "    time += 1\n"
    "task.outputs[\"result\"] = time\n";

void wait_until(const std::function<bool()>& cond) {
  for (int i = 0; i < 3000 && !cond(); ++i) std::this_thread::sleep_for(10ms);
}

// Calls that only read take const handles; calls that change an object or
// block do not, so a const wrapper cannot make them.
static_assert(std::is_invocable_v<decltype(&appose_task_get_status), const appose_task*, appose_task_status*,
                                  appose_error**>);
static_assert(std::is_invocable_v<decltype(&appose_service_pid), const appose_service*, int64_t*, appose_error**>);
static_assert(!std::is_invocable_v<decltype(&appose_task_wait), const appose_task*, int64_t, appose_error**>);
static_assert(!std::is_invocable_v<decltype(&appose_service_kill), const appose_service*, appose_error**>);
static_assert(std::is_same_v<decltype(std::declval<const appose::Task&>().capi()), const appose_task*>);
static_assert(std::is_same_v<decltype(std::declval<appose::Task&>().capi()), appose_task*>);

/// A file's whole text ("" when it cannot be read).
std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace

TEST(Task, CollatzGives93EventsAndResult91) {
  auto svc = python();
  Closing c{svc};
  std::vector<appose::TaskEvent> events;
  auto task = svc.task(kCollatz);
  task.listen([&](const appose::TaskEvent& e) { events.push_back(e); });
  task.wait();
  ASSERT_EQ(events.size(), 93u);
  EXPECT_EQ(events.front().type, appose::ResponseType::Launch);
  EXPECT_EQ(events.back().type, appose::ResponseType::Completion);
  long v = 9999;
  for (int i = 1; i <= 91; ++i) {
    v = v % 2 == 0 ? v / 2 : 3 * v + 1;
    const auto& e = events[i];
    EXPECT_EQ(e.type, appose::ResponseType::Update);
    EXPECT_EQ(e.message.value_or(""), "[" + std::to_string(i - 1) + "] -> " + std::to_string(v));
    EXPECT_EQ(e.current.value_or(-1), i - 1);
    EXPECT_FALSE(e.maximum.has_value());
  }
  EXPECT_EQ(task.status(), appose::TaskStatus::Complete);
  EXPECT_EQ(task.result_json(), "91");
}

TEST(Task, FailureCarriesThePythonException) {
  auto svc = python();
  Closing c{svc};
  auto task = svc.task("whee");
  try {
    task.wait();
    FAIL() << "no exception";
  } catch (const appose::Error& e) {
    EXPECT_EQ(e.status(), APPOSE_STATUS_TASK_FAILED);
    EXPECT_NE(e.message().find("NameError: name 'whee' is not defined"), std::string::npos);
  }
  EXPECT_EQ(task.status(), appose::TaskStatus::Failed);
  ASSERT_TRUE(task.error().has_value());
  EXPECT_NE(task.error()->find("Traceback"), std::string::npos);
}

TEST(Task, CancelIsCooperative) {
  auto svc = python();
  Closing c{svc};
  auto task = svc.task(
      "import time\n"
      "for i in range(1200):\n"
      "    if task.cancel_requested:\n"
      "        task.cancel()\n"
      "        break\n"
      "    time.sleep(0.05)\n");
  task.start();
  wait_until([&] { return task.status() == appose::TaskStatus::Running; });
  task.cancel();
  try {
    task.wait();
    FAIL() << "no exception";
  } catch (const appose::Error& e) {
    EXPECT_EQ(e.status(), APPOSE_STATUS_TASK_CANCELED);
  }
  EXPECT_EQ(task.status(), appose::TaskStatus::Canceled);
}

TEST(Task, KillCrashesPendingTasks) {
  auto svc = python();
  Closing c{svc};
  auto task = svc.task("import time\ntime.sleep(300)");
  task.start();
  wait_until([&] { return task.status() == appose::TaskStatus::Running; });
  svc.kill();
  try {
    task.wait();
    FAIL() << "no exception";
  } catch (const appose::Error& e) {
    EXPECT_EQ(e.status(), APPOSE_STATUS_TASK_CRASHED);
  }
  ASSERT_TRUE(task.error().has_value());
  EXPECT_EQ(task.error()->rfind("Worker crashed with exit code 137.\n", 0), 0u);
  EXPECT_FALSE(svc.alive());
}

TEST(Task, TimeoutsLeaveTasksRunningAndCloseKills) {
  auto svc = appose::Environment::wrap(APPOSE_TEST_PYTHON_ENV)
                 .service({"python"}, {"-c",
                                       "import signal, time\n"
                                       "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
                                       "while True: time.sleep(1)"});
  auto task = svc.task("1");
  EXPECT_FALSE(task.wait_for(200ms));
  EXPECT_EQ(task.status(), appose::TaskStatus::Queued);
  EXPECT_EQ(svc.close(500ms), 137);
  EXPECT_THROW(task.wait(), appose::Error);
  EXPECT_EQ(task.status(), appose::TaskStatus::Crashed);
}

TEST(Task, AListenerThatThrowsIsCaughtAndRethrownByWait) {
  auto svc = python();
  Closing c{svc};
  std::atomic<int> calls{0};
  auto task = svc.task("task.update('one')\ntask.update('two')\n'done'");
  task.listen([&](const appose::TaskEvent& e) {
    ++calls;
    if (e.type == appose::ResponseType::Update) throw std::runtime_error("listener boom");
  });
  EXPECT_THROW(
      {
        try {
          task.wait();
        } catch (const std::runtime_error& e) {
          EXPECT_STREQ(e.what(), "listener boom");
          throw;
        }
      },
      std::runtime_error);
  // Every event was still delivered, and the task and service are fine.
  EXPECT_EQ(calls.load(), 4);
  EXPECT_EQ(task.status(), appose::TaskStatus::Complete);
  EXPECT_EQ(task.result_json(), "\"done\"");
  auto again = svc.task("6 * 7");
  again.wait();
  EXPECT_EQ(again.result_json(), "42");
}

TEST(Task, InitScriptEnvVarsAndLines) {
  auto svc = python();
  svc.init("greeting = 'hi'").env_var("APPOSE_CPP_MARK", "cpp");
  std::mutex m;
  std::vector<std::string> debug;
  svc.debug([&](const std::string& line) {
    std::lock_guard<std::mutex> lock(m);
    debug.push_back(line);
  });
  Closing c{svc};
  auto task = svc.task("import os, sys\nprint('not json')\nsys.stderr.write('to stderr\\n')\ngreeting + os.environ['APPOSE_CPP_MARK']");
  task.wait();
  EXPECT_EQ(task.result_json(), "\"hicpp\"");
  auto invalid = svc.invalid_lines();
  EXPECT_NE(std::find(invalid.begin(), invalid.end(), "not json"), invalid.end());
  wait_until([&] {
    auto lines = svc.error_lines();
    return std::find(lines.begin(), lines.end(), "to stderr") != lines.end();
  });
  auto lines = svc.error_lines();
  EXPECT_NE(std::find(lines.begin(), lines.end(), "to stderr"), lines.end());
  EXPECT_EQ(svc.close(10s), 0);
  std::lock_guard<std::mutex> lock(m);
  EXPECT_FALSE(debug.empty());
}

TEST(Task, JsonInputsAndMovedHandles) {
  auto svc = python();
  Closing c{svc};
  auto task = svc.task_json("{'sum': a + b, 'big': 2**70}", R"({"a": 40, "b": 2})");
  appose::Task moved = std::move(task);
  moved.wait();
  EXPECT_EQ(moved.outputs_json(), R"({"sum":42,"big":1180591620717411303424})");
  EXPECT_THROW(svc.task_json("1", "{not json"), appose::Error);
}

TEST(Service, PidIsTheWorkersProcessBeforeAndAfterItExits) {
  auto svc = python();
  const appose::Service& view = svc;  // every getter works through a const reference
  try {
    (void)view.pid();
    ADD_FAILURE() << "pid() before start did not throw";
  } catch (const appose::Error& e) {
    EXPECT_EQ(e.status(), APPOSE_STATUS_INVALID_STATE);
  }
  svc.start();
  Closing c{svc};
  int64_t pid = view.pid();
  ASSERT_GT(pid, 0);
  EXPECT_TRUE(view.alive());
  // Our child, running the worker (cmdline's arguments are NUL-separated).
  std::string dir = "/proc/" + std::to_string(pid);
  std::string stat = slurp(dir + "/stat");
  std::string after_name = stat.substr(stat.rfind(')') + 2);  // "S <ppid> ..."
  EXPECT_EQ(std::stol(after_name.substr(2)), static_cast<long>(getpid())) << stat;
  EXPECT_NE(slurp(dir + "/cmdline").find("appose.python_worker"), std::string::npos);
  auto task = svc.task("6 * 7");
  task.wait();
  const appose::Task& done = task;
  EXPECT_EQ(done.status(), appose::TaskStatus::Complete);
  EXPECT_EQ(done.result_json(), "42");
  EXPECT_EQ(svc.close(10s), 0);
  EXPECT_FALSE(view.alive());
  EXPECT_EQ(view.pid(), pid);
}

TEST(Threads, HooksRunOnTheThreadsThatCallListenersBalancedAndAreFreed) {
  struct Counts {
    std::mutex m;
    std::vector<std::thread::id> started;
    int starts = 0, exits = 0;
  };
  auto counts = std::make_shared<Counts>();
  auto sentinel = std::make_shared<int>(0);  // held by the hooks only
  std::weak_ptr<int> hooks_alive = sentinel;
  appose::set_thread_hooks(
      [counts, sentinel](const std::string& name) {
        EXPECT_FALSE(name.empty());
        std::lock_guard<std::mutex> g(counts->m);
        counts->started.push_back(std::this_thread::get_id());
        ++counts->starts;
      },
      [counts, sentinel](const std::string&) {
        std::lock_guard<std::mutex> g(counts->m);
        ++counts->exits;
      });
  sentinel.reset();
  {
    auto svc = python();
    Closing c{svc};
    bool on_hooked_thread = false;
    auto task = svc.task("task.update('x')");
    task.listen([&](const appose::TaskEvent&) {
      std::lock_guard<std::mutex> g(counts->m);
      const auto& s = counts->started;
      on_hooked_thread = std::find(s.begin(), s.end(), std::this_thread::get_id()) != s.end();
    });
    task.wait();
    EXPECT_TRUE(on_hooked_thread);
    svc.close(10s);
  }
  appose::clear_thread_hooks();
  // The dispatcher ends after the close; the hooks go with their last thread.
  wait_until([&] { return hooks_alive.expired(); });
  EXPECT_TRUE(hooks_alive.expired());
  std::lock_guard<std::mutex> g(counts->m);
  EXPECT_GE(counts->starts, 1);
  EXPECT_EQ(counts->starts, counts->exits);
}

TEST(Threads, AHookThatThrowsGoesNoFurther) {
  appose::set_thread_hooks([](const std::string&) { throw std::runtime_error("hook failed"); },
                           [](const std::string&) { throw 7; });
  {
    auto svc = python();
    Closing c{svc};
    auto task = svc.task("task.outputs['x'] = 1");
    task.wait();
    EXPECT_EQ(task.status(), appose::TaskStatus::Complete);
  }
  appose::clear_thread_hooks();
}
