/*
 * Quickstart: run a Python task from C through libappose and print its events.
 *
 * Usage: quickstart PYTHON_ENV_DIR   (a directory with bin/python and the
 * `appose` package; tests/quickstart.sh makes one)
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "appose.h"

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Exits with the library's message when a call fails. */
static void check(appose_status status, const char *what) {
  if (status != APPOSE_STATUS_OK) {
    fprintf(stderr, "%s failed: %s\n%s\n", what, appose_status_str((int)status),
            appose_last_error());
    exit(1);
  }
}

/* Runs on the service's dispatcher thread, once per event, in order. */
static void on_event(void *userdata, const appose_task_event *event) {
  double start = *(const double *)userdata;
  printf("[%7.1f ms] ", now_ms() - start);
  switch (event->response_type) {
  case APPOSE_RESPONSE_LAUNCH:
    printf("LAUNCH\n");
    break;
  case APPOSE_RESPONSE_UPDATE:
    printf("UPDATE %s (%lld/%lld)\n", event->message ? event->message : "",
           (long long)event->current, (long long)event->maximum);
    break;
  case APPOSE_RESPONSE_COMPLETION:
    printf("COMPLETION\n");
    break;
  default:
    printf("%s: %s\n", appose_task_status_str((int)event->status),
           event->error ? event->error : "");
  }
}

static const char *SCRIPT =
    "import numpy as np\n"
    "rng = np.random.default_rng(seed)\n"
    "image = rng.random((2048, 2048), dtype=np.float32)\n"
    "for i in range(steps):\n"
    "    image = 0.5 * (image + np.roll(image, 1, axis=i % 2))  # smooth\n"
    "    task.update(f'filter pass {i + 1} of {steps}', current=i + 1, maximum=steps)\n"
    "{'mean': float(image.mean()), 'std': float(image.std()), 'numpy': np.__version__}\n";

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s PYTHON_ENV_DIR\n", argv[0]);
    return 2;
  }
  printf("libappose %s\n", appose_version());
  double start = now_ms();

  appose_env *env = NULL;
  appose_service *python = NULL;
  appose_task *task = NULL;
  check(appose_env_wrap(argv[1], &env), "appose_env_wrap");
  check(appose_env_python(env, &python), "appose_env_python");
  check(appose_service_init(python, "import numpy"), "appose_service_init");

  check(appose_service_task(python, SCRIPT, "{\"seed\": 42, \"steps\": 5}", NULL, &task),
        "appose_service_task");
  check(appose_task_listen(task, on_event, &start, NULL), "appose_task_listen");
  check(appose_task_wait(task, 120000), "appose_task_wait");

  char *outputs = NULL;
  check(appose_task_outputs_json(task, &outputs), "appose_task_outputs_json");
  printf("outputs: %s\n", outputs);
  appose_string_free(outputs);
  printf("worker start + task: %.1f ms\n", now_ms() - start);

  /* A second task on the warm worker: the per-task cost. */
  double t0 = now_ms();
  appose_task *quick = NULL;
  check(appose_service_task(python, "6 * 7", NULL, NULL, &quick), "appose_service_task");
  check(appose_task_wait(quick, 10000), "appose_task_wait");
  char *result = NULL;
  check(appose_task_result_json(quick, &result), "appose_task_result_json");
  printf("6 * 7 = %s in %.2f ms on the warm worker\n", result, now_ms() - t0);
  appose_string_free(result);

  int exit_code = -1;
  check(appose_service_close(python, 10000, &exit_code), "appose_service_close");
  printf("worker exited with code %d\n", exit_code);
  appose_task_free(quick);
  appose_task_free(task);
  appose_service_free(python);
  appose_env_free(env);
  return 0;
}
