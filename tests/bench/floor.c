/*
 * The floor client: the least a program can do to drive the worker. No
 * threads, no bookkeeping: write a request line, read lines until the
 * COMPLETION, repeat.
 *
 * Usage: floor [-s] [-g US] PYTHON MODE N [WORKER ARGV...]
 *   MODE: roundtrip (N sequential tasks after N/10 warm-up), throughput (N
 *   tasks in flight), events (one task sending N UPDATEs: the "floor reader",
 *   which only counts UPDATE lines until the COMPLETION).
 *   -g US: in events mode, pause US microseconds before each read, so that
 *   the worker's lines gather in the pipe and are read in gulps (the worker
 *   then writes without waking the reader each time).
 *   The worker is PYTHON -c "import appose.python_worker; ..." unless a
 *   WORKER argv is given (then PYTHON is not used), e.g. the null worker.
 *   -s: the worker's stdin is a Unix socket pair, as libappose gives it,
 *   instead of a pipe.
 * Prints one JSON line.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

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

static FILE *to_worker, *from_worker;
static int from_fd;
static int gulp_us = 0;
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

/* The floor reader: straight read(2)s into one buffer, counting the UPDATE
 * lines until the line with the COMPLETION. Returns the UPDATEs counted, -1
 * when the output ends first. */
static long count_updates(void) {
  static char buf[1 << 16];
  size_t len = 0;
  long updates = 0;
  for (;;) {
    if (len == sizeof buf) return -1; /* no line is this long here */
    if (gulp_us > 0) usleep((useconds_t)gulp_us);
    ssize_t r = read(from_fd, buf + len, sizeof buf - len);
    if (r <= 0) return -1;
    size_t start = 0, scan = len;
    len += (size_t)r;
    char *nl;
    while ((nl = memchr(buf + scan, '\n', len - scan)) != NULL) {
      size_t n = (size_t)(nl - (buf + start));
      if (memmem(buf + start, n, "\"UPDATE\"", 8)) {
        updates++;
      } else if (memmem(buf + start, n, "\"COMPLETION\"", 12)) {
        return updates;
      }
      start = scan = (size_t)(nl - buf) + 1;
    }
    memmove(buf, buf + start, len - start);
    len -= start;
  }
}

int main(int argc, char **argv) {
  int use_socket = 0;
  for (;;) {
    if (argc > 1 && strcmp(argv[1], "-s") == 0) {
      use_socket = 1, argv++, argc--;
    } else if (argc > 2 && strcmp(argv[1], "-g") == 0) {
      gulp_us = atoi(argv[2]), argv += 2, argc -= 2;
    } else {
      break;
    }
  }
  if (argc < 4) return 2;
  char **worker = argc > 4 ? argv + 4 : NULL;
  int in[2], out[2];
  if ((use_socket ? socketpair(AF_UNIX, SOCK_STREAM, 0, in) : pipe(in)) || pipe(out)) return 1;
  pid_t pid = fork();
  if (pid == 0) {
    dup2(in[0], 0);
    dup2(out[1], 1);
    close(in[1]);
    close(out[0]);
    if (worker) {
      execv(worker[0], worker);
    } else {
      execl(argv[1], argv[1], "-c", "import appose.python_worker; appose.python_worker.main()", (char *)NULL);
    }
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  to_worker = fdopen(in[1], "w");
  from_fd = out[0];
  from_worker = fdopen(out[0], "r");
  int n = atoi(argv[3]);
  if (strcmp(argv[2], "roundtrip") == 0) {
    for (int i = 0; i < n / 10; i++) request(i), completions(1);
    double *v = malloc(sizeof(double) * n);
    double c0 = cpu_us();
    for (int i = 0; i < n; i++) {
      double t0 = now_us();
      request(i);
      completions(1);
      v[i] = now_us() - t0;
    }
    double cpu = (cpu_us() - c0) / n;
    qsort(v, n, sizeof(double), cmp);
    printf("{\"median_us\": %.1f, \"p99_us\": %.1f, \"cpu_us\": %.2f}\n", v[n / 2], v[n * 99 / 100], cpu);
  } else if (strcmp(argv[2], "throughput") == 0) {
    request(0), completions(1);
    double t0 = now_us();
    for (int i = 0; i < n; i++) request(i);
    int got = completions(n);
    double secs = (now_us() - t0) / 1e6;
    printf("{\"tasks_per_s\": %.0f, \"lost\": %d}\n", got / secs, n - got);
  } else if (strcmp(argv[2], "events") == 0) {
    /* Warm up with one task (read with read(2), not stdio, as below). */
    request(0);
    if (count_updates() < 0) return 1;
    double t0 = now_us();
    /* The same script and input as the other clients' events mode. */
    fprintf(to_worker,
            "{\"task\":\"%032d\",\"requestType\":\"EXECUTE\",\"script\":\"for i in range(n):\\n    "
            "task.update(current=i)\\n\",\"inputs\":{\"n\":%d},\"queue\":null}\n",
            1, n);
    fflush(to_worker);
    long got = count_updates();
    double secs = (now_us() - t0) / 1e6;
    if (got < 0) return 1;
    printf("{\"events_per_s\": %.0f, \"received\": %ld}\n", got / secs, got);
  } else {
    return 2;
  }
  fclose(to_worker);
  waitpid(pid, NULL, 0);
  return 0;
}
