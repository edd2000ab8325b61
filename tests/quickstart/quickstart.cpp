// Quickstart: what a C++ imaging application does with libappose.
//
// Builds (or reuses) a Python environment with uv, starts a Python worker,
// hands it a 512 MiB image without copying, runs a numpy filter on it in
// place while streaming progress, and prints the results and timings.
#include <appose/appose.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>

namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

const char* kFilter = R"(
import numpy as np
v = image.ndarray()
steps = 8
chunk = v.shape[0] // steps
for i in range(steps):
    block = v[i * chunk:(i + 1) * chunk]
    np.sqrt(block, out=block)      # in place: these are the caller's pixels
    block *= 2.0
    task.update(f'filtered rows {i * chunk}..{(i + 1) * chunk - 1}', current=i + 1, maximum=steps)
{'mean': float(v.mean(dtype=np.float64)), 'min': float(v.min()), 'max': float(v.max()),
 'shape': list(v.shape), 'numpy': np.__version__}
)";

}  // namespace

int main() {
  try {
    std::printf("libappose %s\n\n", appose::version().c_str());
    auto start = Clock::now();

    // 1. The environment: built once with uv, reused afterwards.
    std::printf("1. Python environment (uv: appose 0.12.0, numpy 2.2.6)\n");
    appose::Builder builder("uv");
    builder.name("appose-quickstart").content("appose==0.12.0\nnumpy==2.2.6\n");
    std::string last_title;
    builder.on_progress([&](const std::string& title, uint64_t cur, uint64_t max) {
      if (title != last_title || cur == max) {
        std::printf("   [progress] %s %llu/%llu\n", title.c_str(), static_cast<unsigned long long>(cur),
                    static_cast<unsigned long long>(max));
        last_title = title;
      }
    });
    builder.on_error([](const std::string& line) { std::printf("   [uv] %s\n", line.c_str()); });
    auto t = Clock::now();
    appose::Environment env = builder.build();
    std::printf("   ready in %.0f ms: %s\n\n", ms_since(t), env.base().c_str());

    // 2. A 512 MiB float32 image in shared memory, filled here.
    const size_t height = 8192, width = 16384;
    appose::NDArray image(appose::DType::Float32, {height, width});
    float* px = image.data<float>();
    for (size_t i = 0; i < image.size(); ++i) px[i] = static_cast<float>(i % 1000) / 1000.0f;
    std::printf("2. image %zu x %zu float32 = %zu MiB in %s\n\n", height, width, image.byte_length() >> 20,
                image.shm().name().c_str());

    // 3. The worker, and the filter streaming its progress.
    std::printf("3. numpy filter in the worker, in place\n");
    t = Clock::now();
    appose::Service python = env.python();
    python.init("import numpy");
    appose::Map inputs;
    inputs.put("image", image);
    appose::Task task = python.task(kFilter, inputs);
    task.listen([t](const appose::TaskEvent& e) {
      if (e.type == appose::ResponseType::Update) {
        std::printf("   [%7.1f ms] %s (%lld/%lld)\n", ms_since(t), e.message.value_or("").c_str(),
                    static_cast<long long>(e.current.value_or(0)), static_cast<long long>(e.maximum.value_or(0)));
      } else {
        std::printf("   [%7.1f ms] %s\n", ms_since(t), appose::to_string(e.status).c_str());
      }
    });
    task.wait();
    double task_ms = ms_since(t);
    std::printf("   outputs: %s\n", task.outputs_json().c_str());

    // The worker's writes are in our own memory: nothing was copied.
    size_t probe = 123456789;
    float expected = 2.0f * std::sqrt(static_cast<float>(probe % 1000) / 1000.0f);
    std::printf("   pixel %zu here: %.6f (expected %.6f) -> %s\n\n", probe, px[probe], expected,
                std::fabs(px[probe] - expected) < 1e-6f ? "written in place, no copy" : "MISMATCH");

    // 4. Per-task cost on the warm worker.
    t = Clock::now();
    const int n = 200;
    for (int i = 0; i < n; ++i) python.task("1").wait();
    double per_task = ms_since(t) / n;

    std::printf("4. timings\n");
    std::printf("   start worker + 512 MiB handoff + filter: %8.1f ms\n", task_ms);
    std::printf("   trivial task round trip (warm worker):   %8.3f ms\n", per_task);
    std::printf("   worker exit code: %d\n", python.close(std::chrono::seconds(30)));
    std::printf("   total: %.1f s\n", ms_since(start) / 1000.0);
    return std::fabs(px[probe] - expected) < 1e-6f ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "quickstart failed: %s\n", e.what());
    return 1;
  }
}
