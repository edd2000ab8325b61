// Runs one task through an installed libappose. Usage: consumer_cpp ENV_DIR
#include <appose/appose.hpp>

#include <cstdio>

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  try {
    auto python = appose::Environment::wrap(argv[1]).python();
    auto task = python.task_json("x * 2", R"({"x": 21})");
    task.wait();
    std::printf("consumer_cpp (libappose %s): %s\n", appose::version().c_str(), task.result_json().c_str());
    python.close();
    return task.result_json() == "42" ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
}
