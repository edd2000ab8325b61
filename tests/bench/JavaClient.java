// Benchmark client using appose-java's own client (see tests/bench/run.sh).
// Usage: java -cp <appose jar and deps>:. JavaClient ENV_DIR MODE N [WORKER ARGV...]
// MODE: roundtrip (N sequential tasks after N/10 warm-up), throughput,
// startup, events. With a WORKER argv, the service runs that command instead
// of the environment's Python worker (e.g. the null worker; roundtrip and
// throughput only).
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import org.apposed.appose.Builder;
import org.apposed.appose.Environment;
import org.apposed.appose.Service;
import org.apposed.appose.Service.Task;

public class JavaClient {
  /** The worker command given after N, if any. */
  static String[] worker = new String[0];

  static Service service(String envDir) throws Exception {
    if (worker.length > 0) {
      Service svc = new Service(new java.io.File(envDir), worker);
      svc.start();
      return svc;
    }
    // The environment as it is: Appose.wrap would first run appose-java's uv
    // builder, which downloads uv from GitHub when it has none of its own.
    Environment env = new Environment() {
      public String base() { return envDir; }
      public List<String> binPaths() { return List.of(envDir + "/bin"); }
      public List<String> launchArgs() { return List.of(); }
      public Builder<?> builder() { return null; }
    };
    Service svc = env.python();
    svc.start();
    return svc;
  }

  /** CPU time (user + system) of this process, all threads (JIT and GC included). */
  static long cpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
        .getOperatingSystemMXBean()).getProcessCpuTime();
  }

  public static void main(String[] args) throws Exception {
    String envDir = args[0], mode = args[1];
    int n = Integer.parseInt(args[2]);
    worker = Arrays.copyOfRange(args, 3, args.length);
    switch (mode) {
      case "roundtrip": {
        Service svc = service(envDir);
        for (int i = 0; i < n / 10; i++) svc.task("1").waitFor();
        double[] v = new double[n];
        long c0 = cpuNanos();
        for (int i = 0; i < n; i++) {
          long t0 = System.nanoTime();
          svc.task("1").waitFor();
          v[i] = (System.nanoTime() - t0) / 1e3;
        }
        double cpu = (cpuNanos() - c0) / 1e3 / n;
        Arrays.sort(v);
        System.out.printf("{\"median_us\": %.1f, \"p99_us\": %.1f, \"cpu_us\": %.2f}%n", v[n / 2], v[n * 99 / 100], cpu);
        svc.close();
        break;
      }
      case "throughput": {
        Service svc = service(envDir);
        svc.task("1").waitFor();
        long t0 = System.nanoTime();
        List<Task> tasks = new ArrayList<>();
        for (int i = 0; i < n; i++) tasks.add(svc.task("1").start());
        long deadline = t0 + 30_000_000_000L;
        int lost = 0;
        for (Task t : tasks) {
          while (!t.status.isFinished() && System.nanoTime() < deadline) Thread.sleep(1);
          if (t.status != Service.TaskStatus.COMPLETE) lost++;
        }
        double secs = (System.nanoTime() - t0) / 1e9;
        System.out.printf("{\"tasks_per_s\": %.0f, \"lost\": %d}%n", (n - lost) / secs, lost);
        svc.kill();
        break;
      }
      case "startup": {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
          long t0 = System.nanoTime();
          Service svc = service(envDir);
          svc.task("1").waitFor();
          v[i] = (System.nanoTime() - t0) / 1e6;
          svc.close();
          svc.waitFor();
        }
        Arrays.sort(v);
        System.out.printf("{\"startup_ms\": %.1f}%n", v[n / 2]);
        break;
      }
      case "events": {
        Service svc = service(envDir);
        svc.task("1").waitFor();
        AtomicLong count = new AtomicLong();
        java.util.Map<String, Object> inputs = new java.util.HashMap<>();
        inputs.put("n", n);
        Task task = svc.task("for i in range(n):\n    task.update(current=i)\n", inputs);
        task.listen(e -> count.incrementAndGet());
        long t0 = System.nanoTime();
        task.waitFor();
        double secs = (System.nanoTime() - t0) / 1e9;
        long got = count.get() - 2;
        System.out.printf("{\"events_per_s\": %.0f, \"received\": %d}%n", got / secs, got);
        svc.close();
        break;
      }
      default:
        System.exit(2);
    }
    System.exit(0);
  }
}
