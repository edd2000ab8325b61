/*
 * The floor client: the least a program can do to drive the worker. No
 * threads, no bookkeeping: write a request line, read lines until the
 * COMPLETION, repeat. Usage: floor PYTHON MODE N (MODE: roundtrip, throughput)
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static FILE *to_worker, *from_worker;
static char *line = NULL;
static size_t cap = 0;

static void request(int id) {
  fprintf(to_worker,
          "{\"task\":\"%032d\",\"requestType\":\"EXECUTE\",\"script\":\"1\",\"inputs\":{},\"queue\":null}\n", id);
  fflush(to_worker);
}

/* Reads lines until `want` COMPLETION responses have been seen. */
static int completions(int want) {
  int seen = 0;
  while (seen < want && getline(&line, &cap, from_worker) > 0) {
    for (char *p = line; (p = strstr(p, "\"COMPLETION\"")) != NULL; p++) seen++;
  }
  return seen;
}

int main(int argc, char **argv) {
  if (argc != 4) return 2;
  int in[2], out[2];
  if (pipe(in) || pipe(out)) return 1;
  pid_t pid = fork();
  if (pid == 0) {
    dup2(in[0], 0);
    dup2(out[1], 1);
    close(in[1]);
    close(out[0]);
    execl(argv[1], argv[1], "-c", "import appose.python_worker; appose.python_worker.main()", (char *)NULL);
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  to_worker = fdopen(in[1], "w");
  from_worker = fdopen(out[0], "r");
  int n = atoi(argv[3]);
  if (strcmp(argv[2], "roundtrip") == 0) {
    for (int i = 0; i < 200; i++) request(i), completions(1);
    double *v = malloc(sizeof(double) * n);
    for (int i = 0; i < n; i++) {
      double t0 = now_us();
      request(i);
      completions(1);
      v[i] = now_us() - t0;
    }
    qsort(v, n, sizeof(double), cmp);
    printf("{\"median_us\": %.1f, \"p99_us\": %.1f}\n", v[n / 2], v[n * 99 / 100]);
  } else {
    request(0), completions(1);
    double t0 = now_us();
    for (int i = 0; i < n; i++) request(i);
    int got = completions(n);
    double secs = (now_us() - t0) / 1e6;
    printf("{\"tasks_per_s\": %.0f, \"lost\": %d}\n", got / secs, n - got);
  }
  fclose(to_worker);
  waitpid(pid, NULL, 0);
  return 0;
}
