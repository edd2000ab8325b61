/*
 * Benchmark client over the C ABI (see tests/bench/run.sh).
 * Usage: client ENV_DIR MODE N [WORKER ARGV...]
 *   MODE: roundtrip (N sequential tasks after N/10 warm-up), throughput,
 *   startup, events. With a WORKER argv (an absolute path first), the
 *   service runs that command instead of the environment's Python worker
 *   (e.g. the null worker; roundtrip and throughput only).
 * Prints one JSON line of results.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "appose.h"

static double now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* CPU time (user + system) of this process, all threads, in microseconds. */
static double cpu_us(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 + ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static void ok(appose_status s, const char *what) {
  if (s != APPOSE_STATUS_OK) {
    fprintf(stderr, "%s: %s\n", what, appose_last_error());
    exit(1);
  }
}

/* The worker command given after N, if any (NULL-terminated). */
static char **worker_argv = NULL;

static appose_service *start_service(const char *env_dir) {
  appose_env *env = NULL;
  appose_service *svc = NULL;
  if (worker_argv) {
    size_t n_args = 0;
    while (worker_argv[1 + n_args]) n_args++;
    ok(appose_env_system(&env, NULL), "system");
    ok(appose_env_service(env, (const char *const *)worker_argv, 1, (const char *const *)worker_argv + 1,
                          n_args, &svc, NULL),
       "service");
  } else {
    ok(appose_env_wrap(env_dir, &env, NULL), "wrap");
    ok(appose_env_python(env, &svc, NULL), "python");
  }
  appose_env_free(env);
  ok(appose_service_start(svc, NULL), "start");
  return svc;
}

static void run_one(appose_service *svc, const char *script) {
  appose_task *t = NULL;
  ok(appose_service_task(svc, script, NULL, NULL, &t, NULL), "task");
  ok(appose_task_wait(t, -1, NULL), "wait");
  appose_task_free(t);
}

static atomic_long events = 0;
static void on_event(void *ud, const appose_event *e) {
  (void)ud;
  (void)e;
  atomic_fetch_add(&events, 1);
}

int main(int argc, char **argv) {
  if (argc < 4) return 2;
  const char *env_dir = argv[1], *mode = argv[2];
  int n = atoi(argv[3]);
  if (argc > 4) worker_argv = argv + 4;
  if (strcmp(mode, "roundtrip") == 0) {
    appose_service *svc = start_service(env_dir);
    for (int i = 0; i < n / 10; i++) run_one(svc, "1");
    double *v = malloc(sizeof(double) * n);
    double c0 = cpu_us();
    for (int i = 0; i < n; i++) {
      double t0 = now_us();
      run_one(svc, "1");
      v[i] = now_us() - t0;
    }
    double cpu = (cpu_us() - c0) / n;
    qsort(v, n, sizeof(double), cmp);
    printf("{\"median_us\": %.1f, \"p99_us\": %.1f, \"cpu_us\": %.2f}\n", v[n / 2], v[n * 99 / 100], cpu);
    appose_service_close(svc, 10000, NULL, NULL);
  } else if (strcmp(mode, "throughput") == 0) {
    appose_service *svc = start_service(env_dir);
    run_one(svc, "1");
    appose_task **tasks = malloc(sizeof(appose_task *) * n);
    double t0 = now_us();
    for (int i = 0; i < n; i++) {
      ok(appose_service_task(svc, "1", NULL, NULL, &tasks[i], NULL), "task");
      ok(appose_task_start(tasks[i], NULL), "start");
    }
    int lost = 0;
    double deadline = t0 + 30e6;
    for (int i = 0; i < n; i++) {
      double left = (deadline - now_us()) / 1000;
      if (appose_task_wait(tasks[i], left > 0 ? (int64_t)left : 0, NULL) != APPOSE_STATUS_OK) lost++;
    }
    double secs = (now_us() - t0) / 1e6;
    printf("{\"tasks_per_s\": %.0f, \"lost\": %d}\n", (n - lost) / secs, lost);
    for (int i = 0; i < n; i++) appose_task_free(tasks[i]);
    appose_service_close(svc, 10000, NULL, NULL);
  } else if (strcmp(mode, "startup") == 0) {
    double *v = malloc(sizeof(double) * n);
    for (int i = 0; i < n; i++) {
      double t0 = now_us();
      appose_service *svc = start_service(env_dir);
      run_one(svc, "1");
      v[i] = (now_us() - t0) / 1000;
      appose_service_close(svc, 10000, NULL, NULL);
      appose_service_free(svc);
    }
    qsort(v, n, sizeof(double), cmp);
    printf("{\"startup_ms\": %.1f}\n", v[n / 2]);
  } else if (strcmp(mode, "events") == 0) {
    appose_service *svc = start_service(env_dir);
    run_one(svc, "1");
    char inputs[64];
    snprintf(inputs, sizeof inputs, "{\"n\": %d}", n);
    appose_task *t = NULL;
    ok(appose_service_task(svc, "for i in range(n):\n    task.update(current=i)\n", inputs, NULL, &t, NULL), "task");
    ok(appose_task_listen(t, on_event, NULL, NULL, NULL), "listen");
    double t0 = now_us();
    ok(appose_task_wait(t, -1, NULL), "wait");
    double secs = (now_us() - t0) / 1e6;
    long got = atomic_load(&events) - 2; /* LAUNCH and COMPLETION */
    printf("{\"events_per_s\": %.0f, \"received\": %ld}\n", got / secs, got);
    appose_task_free(t);
    appose_service_close(svc, 10000, NULL, NULL);
  } else {
    return 2;
  }
  return 0;
}
