// Benchmark client over the libappose Java binding, in the shape of
// tests/bench/JavaClient.java (appose-java's own client), so that the two
// are measured the same way. Usage:
//   java -Dlibappose.bridge=jni|ffm -cp <libappose jar>:. LibApposeClient ENV_DIR MODE N
// MODE: roundtrip (N sequential tasks after N/10 warm-up) or events (one task
// sending N UPDATE events). Prints one JSON line.
import java.io.File;
import java.util.Arrays;
import java.util.Collections;
import java.util.concurrent.atomic.AtomicLong;
import org.libappose.Appose;
import org.libappose.Service;
import org.libappose.Task;

public class LibApposeClient {
  static long cpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean)
            java.lang.management.ManagementFactory.getOperatingSystemMXBean())
        .getProcessCpuTime();
  }

  public static void main(String[] args) throws Exception {
    String envDir = args[0], mode = args[1];
    int n = Integer.parseInt(args[2]);
    Service svc = Appose.wrap(new File(envDir)).python().start();
    switch (mode) {
      case "roundtrip": {
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
        System.out.printf(
            "{\"median_us\": %.1f, \"p99_us\": %.1f, \"cpu_us\": %.2f, \"bridge\": \"%s\"}%n",
            v[n / 2], v[n * 99 / 100], cpu, Appose.bridge());
        break;
      }
      case "events": {
        svc.task("1").waitFor();
        AtomicLong count = new AtomicLong();
        Task task =
            svc.task(
                "for i in range(n):\n    task.update(current=i)\n",
                Collections.singletonMap("n", (Object) n));
        task.listen(e -> count.incrementAndGet());
        long t0 = System.nanoTime();
        task.waitFor();
        double secs = (System.nanoTime() - t0) / 1e9;
        long got = count.get() - 2;
        System.out.printf(
            "{\"events_per_s\": %.0f, \"received\": %d, \"bridge\": \"%s\"}%n",
            got / secs, got, Appose.bridge());
        break;
      }
      default:
        System.exit(2);
    }
    svc.close(java.time.Duration.ofSeconds(20));
    System.exit(0);
  }
}
