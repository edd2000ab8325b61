/*
 * The event queue from C, as an event loop host uses it: many tasks on
 * three services through one queue, taken when poll() says its fd is
 * readable, with no blocking call at all (closes included); update `info`
 * maps with plain values and an array; a crash through the queue; a worker
 * that never reads its stdin closed without blocking; errors read on
 * another thread than the call's; thread hooks balanced, run on the thread
 * that calls the listeners, and released once.
 *
 * Usage: queue_test PYTHON_ENV_DIR
 *
 * APPOSE_TEST_TASKS sets the number of tasks (default 1000, or 60 when run
 * under valgrind, which is slow).
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "appose.h"

#include "check.h"

#define N_SERVICES 3
/* Tasks of services 0 and 1 reach the queue through the service
 * (`appose_service_listen_queue`), tagged SERVICE_TAG + s; tasks of service
 * 2 each through their own (`appose_task_listen_queue`), tagged TASK_TAG + i,
 * and they also have a callback listener. */
#define SERVICE_TAG 100
#define TASK_TAG 1000000
#define CLOSE_TAG 200
/* The task whose update sends an array in its info. */
#define ARRAY_TASK 1

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

static int task_count(void) {
  const char *n = getenv("APPOSE_TEST_TASKS");
  if (n != NULL && atoi(n) >= N_SERVICES)
    return atoi(n);
  /* valgrind preloads its own objects (vgpreload_*.so). */
  const char *preload = getenv("LD_PRELOAD");
  return preload != NULL && strstr(preload, "vgpreload") != NULL ? 60 : 1000;
}

static int process_gone(pid_t pid) { return pid > 0 && kill(pid, 0) == -1 && errno == ESRCH; }

static int shm_exists(const char *name) {
  char path[128];
  struct stat st;
  snprintf(path, sizeof path, "/dev/shm/%s", name);
  return stat(path, &st) == 0;
}

/* Waits up to timeout_ms for the queue's fd to turn readable, then takes
 * every waiting event (the batch may be empty). */
static appose_event_batch *take_when_ready(appose_queue *queue, int timeout_ms) {
  int fd = -1;
  appose_event_batch *batch = NULL;
  OK(appose_queue_fd(queue, &fd, NULL));
  struct pollfd p = {.fd = fd, .events = POLLIN, .revents = 0};
  CHECK(poll(&p, 1, timeout_ms) >= 0);
  OK(appose_queue_take(queue, 0, &batch, NULL));
  return batch;
}

/* ---- Thread hooks ------------------------------------------------------ */

#define MAX_LIVE 64

/* What the hooks saw. Library threads write it, so the checks happen on the
 * main thread, from the counters. */
static struct {
  pthread_mutex_t lock;
  /* Threads whose start hook ran and whose exit hook has not. */
  pthread_t live[MAX_LIVE];
  int live_dispatch[MAX_LIVE];
  int n_live;
  atomic_int starts, exits, frees;
  atomic_int dispatch_starts, close_starts;
  /* Exits of threads never started, or more live threads than fit. */
  atomic_int anomalies;
} hooks = {.lock = PTHREAD_MUTEX_INITIALIZER};

static int ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && strcmp(s + n - m, suffix) == 0;
}

static void on_thread_start(void *userdata, const char *name) {
  (void)userdata;
  atomic_fetch_add(&hooks.starts, 1);
  if (ends_with(name, "-dispatch"))
    atomic_fetch_add(&hooks.dispatch_starts, 1);
  if (ends_with(name, "-close"))
    atomic_fetch_add(&hooks.close_starts, 1);
  pthread_mutex_lock(&hooks.lock);
  if (hooks.n_live < MAX_LIVE) {
    hooks.live[hooks.n_live] = pthread_self();
    hooks.live_dispatch[hooks.n_live] = ends_with(name, "-dispatch");
    hooks.n_live++;
  } else {
    atomic_fetch_add(&hooks.anomalies, 1);
  }
  pthread_mutex_unlock(&hooks.lock);
}

static void on_thread_exit(void *userdata, const char *name) {
  (void)userdata;
  (void)name;
  int found = 0;
  pthread_mutex_lock(&hooks.lock);
  for (int i = 0; i < hooks.n_live; i++) {
    if (pthread_equal(hooks.live[i], pthread_self())) {
      hooks.n_live--;
      hooks.live[i] = hooks.live[hooks.n_live];
      hooks.live_dispatch[i] = hooks.live_dispatch[hooks.n_live];
      found = 1;
      break;
    }
  }
  pthread_mutex_unlock(&hooks.lock);
  if (!found)
    atomic_fetch_add(&hooks.anomalies, 1);
  atomic_fetch_add(&hooks.exits, 1);
}

static void free_hooks(void *userdata) {
  (void)userdata;
  atomic_fetch_add(&hooks.frees, 1);
}

/* True on a dispatcher thread whose start hook ran and exit hook has not. */
static int on_hooked_dispatcher(void) {
  int found = 0;
  pthread_mutex_lock(&hooks.lock);
  for (int i = 0; i < hooks.n_live; i++)
    if (pthread_equal(hooks.live[i], pthread_self()) && hooks.live_dispatch[i])
      found = 1;
  pthread_mutex_unlock(&hooks.lock);
  return found;
}

/* After every service is closed: each hooked thread ran its exit hook, and
 * the hooks' userdata goes exactly once when they are replaced. */
static void check_hooks_balance(int services, int closes) {
  for (int i = 0; i < 500 && atomic_load(&hooks.exits) != atomic_load(&hooks.starts); i++)
    sleep_ms(10);
  printf("thread hooks: %d starts (%d dispatchers, %d closes), %d exits\n", atomic_load(&hooks.starts),
         atomic_load(&hooks.dispatch_starts), atomic_load(&hooks.close_starts), atomic_load(&hooks.exits));
  CHECK(atomic_load(&hooks.starts) > 0);
  CHECK(atomic_load(&hooks.starts) == atomic_load(&hooks.exits));
  /* The threads the header names: one dispatcher per service, one thread
   * per close_async; no other thread runs host code. */
  CHECK(atomic_load(&hooks.dispatch_starts) == services);
  CHECK(atomic_load(&hooks.close_starts) == closes);
  CHECK(atomic_load(&hooks.starts) == services + closes);
  CHECK(atomic_load(&hooks.anomalies) == 0);
  pthread_mutex_lock(&hooks.lock);
  CHECK(hooks.n_live == 0);
  pthread_mutex_unlock(&hooks.lock);
  /* Still set: the userdata is the library's. */
  CHECK(atomic_load(&hooks.frees) == 0);
  OK(appose_set_thread_hooks(NULL, NULL, NULL, NULL, NULL));
  for (int i = 0; i < 500 && atomic_load(&hooks.frees) == 0; i++)
    sleep_ms(10);
  sleep_ms(100); /* room for a second, wrong, call */
  CHECK(atomic_load(&hooks.frees) == 1);
}

/* ---- 2. Errors read on another thread ---------------------------------- */

struct handoff {
  pthread_mutex_t lock;
  pthread_cond_t cond;
  int stage; /* 1: the main thread's second call has failed */
  appose_error *from_main;
  appose_error *from_reader;
  int ok_status, ok_message, not_json, own_last_error_empty, unchanged_after_own_failure;
};

static void *read_error_elsewhere(void *arg) {
  struct handoff *h = arg;
  pthread_mutex_lock(&h->lock);
  while (h->stage < 1)
    pthread_cond_wait(&h->cond, &h->lock);
  pthread_mutex_unlock(&h->lock);

  /* Read after the main thread failed again: the message is the first
   * call's, not the main thread's latest, and not this thread's (none). */
  const char *m = appose_error_message(h->from_main);
  h->ok_status = appose_error_status(h->from_main) == APPOSE_STATUS_NOT_FOUND;
  h->ok_message = strstr(m, "/no/such/dir/queue-test") != NULL;
  h->not_json = strstr(m, "JSON") == NULL && strstr(m, "json") == NULL;
  h->own_last_error_empty = strcmp(appose_last_error(), "") == 0;

  /* A failure of this thread's own leaves the first error as it was; its
   * error goes back to the main thread. */
  appose_shm *shm = NULL;
  (void)appose_shm_attach("psm_0badf00d", &shm, &h->from_reader);
  h->unchanged_after_own_failure = strcmp(appose_error_message(h->from_main), m) == 0 &&
                                   strstr(m, "/no/such/dir/queue-test") != NULL;
  return NULL;
}

static void test_errors_across_threads(void) {
  struct handoff h = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};
  appose_env *env = NULL;
  appose_map *map = NULL;
  pthread_t reader;

  CHECK_STATUS(appose_env_wrap("/no/such/dir/queue-test", &env, &h.from_main), APPOSE_STATUS_NOT_FOUND);
  CHECK(h.from_main != NULL);
  CHECK(pthread_create(&reader, NULL, read_error_elsewhere, &h) == 0);

  /* Meanwhile this thread fails differently: its last error moves on. */
  CHECK_STATUS(appose_map_from_json("{oops", &map, NULL), APPOSE_STATUS_INVALID_JSON);
  CHECK(strstr(appose_last_error(), "/no/such/dir/queue-test") == NULL);
  pthread_mutex_lock(&h.lock);
  h.stage = 1;
  pthread_cond_signal(&h.cond);
  pthread_mutex_unlock(&h.lock);
  CHECK(pthread_join(reader, NULL) == 0);

  CHECK(h.ok_status);
  CHECK(h.ok_message);
  CHECK(h.not_json);
  CHECK(h.own_last_error_empty);
  CHECK(h.unchanged_after_own_failure);
  /* And the other way round: the reader's error, read here. */
  CHECK(appose_error_status(h.from_reader) == APPOSE_STATUS_NOT_FOUND);
  CHECK(strstr(appose_error_message(h.from_reader), "psm_0badf00d") != NULL);
  CHECK(strstr(appose_last_error(), "psm_0badf00d") == NULL);

  /* A call that succeeds leaves the slot as it was, even holding an error. */
  appose_error *kept = h.from_reader;
  OK(appose_map_new(&map, &kept));
  CHECK(kept == h.from_reader);
  OK(appose_map_free(map));

  OK(appose_error_free(h.from_main));
  OK(appose_error_free(h.from_reader));
  CHECK_STATUS(appose_error_free(h.from_main), APPOSE_STATUS_INVALID_HANDLE);
  CHECK_STATUS(appose_error_status(h.from_main), APPOSE_STATUS_INVALID_HANDLE);
  CHECK(strcmp(appose_error_message(h.from_main), "") == 0);
  CHECK_STATUS(appose_error_free(NULL), APPOSE_STATUS_OK);
}

/* ---- 1. Many tasks through one queue ----------------------------------- */

struct task_rec {
  appose_task *task;
  char *id;
  int index, service, k;
  /* Seen through the queue so far. */
  int launched, updates, ended;
  /* Service 2: calls of the callback listener. */
  atomic_int listener_calls;
  atomic_int listener_anomalies;
};

struct run {
  struct task_rec *tasks;
  int n;
  struct task_rec **by_id; /* sorted by id, for bsearch */
  int ended;
  long events, batches, polls, empty_takes;
  pid_t pids[N_SERVICES];
  int closed[N_SERVICES];
  char array_block[64];
  int array_seen;
};

static int by_id_cmp(const void *a, const void *b) {
  return strcmp((*(struct task_rec *const *)a)->id, (*(struct task_rec *const *)b)->id);
}

static int key_cmp(const void *key, const void *rec) {
  return strcmp(key, (*(struct task_rec *const *)rec)->id);
}

static struct task_rec *find_task(struct run *run, const char *id) {
  if (id == NULL)
    return NULL;
  struct task_rec **r = bsearch(id, run->by_id, (size_t)run->n, sizeof *run->by_id, key_cmp);
  return r == NULL ? NULL : *r;
}

static int has_info(int i) { return i % 5 == 0 && i != ARRAY_TASK; }

/* Service 2's callback listener: runs on a dispatcher thread whose start
 * hook ran, before the same event reaches the queue (it was added first). */
static void on_task_event(void *userdata, const appose_event *event) {
  struct task_rec *t = userdata;
  if (event->size != sizeof(appose_event) || event->tag != 0 || event->kind != APPOSE_EVENT_TASK ||
      !on_hooked_dispatcher())
    atomic_fetch_add(&t->listener_anomalies, 1);
  atomic_fetch_add(&t->listener_calls, 1);
}

static int expected_tag(const struct task_rec *t) {
  return t->service == 2 ? TASK_TAG + t->index : SERVICE_TAG + t->service;
}

/* Checks the info of an update of task t: {'n': i}, an array, or none. */
static void check_info(struct run *run, const struct task_rec *t, const appose_event *e, int first_look) {
  char *json = NULL;
  char want[32];
  if (has_info(t->index)) {
    CHECK(e->info != NULL);
    snprintf(want, sizeof want, "{\"n\":%d}", t->index);
    CHECK(e->info_json != NULL && strcmp(e->info_json, want) == 0);
    OK(appose_map_get_json(e->info, "n", &json, NULL));
    snprintf(want, sizeof want, "%d", t->index);
    CHECK(json != NULL && strcmp(json, want) == 0);
    appose_string_free(json);
  } else if (t->index == ARRAY_TASK) {
    appose_ndarray *a = NULL;
    appose_shm *shm = NULL;
    size_t shape[1] = {0};
    int dtype = -1;
    void *data = NULL;
    char *name = NULL;
    CHECK(e->info_json != NULL && strstr(e->info_json, "\"appose_type\":\"ndarray\"") != NULL);
    OK(appose_map_get_ndarray(e->info, "preview", &a, NULL));
    OK(appose_ndarray_dtype(a, &dtype, NULL));
    CHECK(dtype == APPOSE_DTYPE_UINT8);
    OK(appose_ndarray_shape(a, APPOSE_ORDER_C, shape, 1, NULL));
    CHECK(shape[0] == 3);
    OK(appose_ndarray_data(a, &data, NULL));
    CHECK(data != NULL && memcmp(data, "\x07\x08\x09", 3) == 0);
    OK(appose_ndarray_shm(a, &shm, NULL));
    OK(appose_shm_name(shm, &name, NULL));
    if (first_look && name != NULL) {
      snprintf(run->array_block, sizeof run->array_block, "%s", name);
      run->array_seen++;
    }
    CHECK(name != NULL && strcmp(name, run->array_block) == 0);
    appose_string_free(name);
    OK(appose_shm_free(shm));
    OK(appose_ndarray_free(a));
  } else {
    CHECK(e->info == NULL);
    CHECK(e->info_json == NULL);
  }
}

/* Reads a finished task's result, [i * 3 + 1, worker pid]; the pid is the
 * same for every task of a service and differs between services. */
static void check_result(struct run *run, struct task_rec *t) {
  char *json = NULL;
  int value = -1, pid = -1;
  appose_task_status status = APPOSE_TASK_INITIAL;
  OK(appose_task_get_status(t->task, &status, NULL));
  CHECK(status == APPOSE_TASK_COMPLETE);
  OK(appose_task_result_json(t->task, &json, NULL));
  CHECK(json != NULL && sscanf(json, "[%d,%d]", &value, &pid) == 2);
  CHECK(value == t->index * 3 + 1);
  if (run->pids[t->service] == 0)
    run->pids[t->service] = pid;
  CHECK(pid == run->pids[t->service]);
  appose_string_free(json);
}

/* One event taken from the queue, checked against what its task sent. */
static void handle_event(struct run *run, const appose_event *e) {
  CHECK(e != NULL && e->size == sizeof(appose_event));
  if (e == NULL)
    return;
  CHECK(e->reserved == 0);
  if (e->kind == APPOSE_EVENT_CLOSED) {
    int s = (int)e->tag - CLOSE_TAG;
    CHECK(s >= 0 && s < N_SERVICES);
    if (s >= 0 && s < N_SERVICES) {
      CHECK(run->closed[s] == 0);
      run->closed[s]++;
    }
    CHECK(e->status == APPOSE_STATUS_OK);
    CHECK(e->exit_code == 0);
    CHECK(e->error == NULL);
    return;
  }
  CHECK(e->kind == APPOSE_EVENT_TASK);
  struct task_rec *t = find_task(run, e->task_id);
  CHECK(t != NULL);
  if (t == NULL)
    return;
  CHECK((int)e->tag == expected_tag(t));
  CHECK(!t->ended);
  switch (e->response_type) {
  case APPOSE_RESPONSE_LAUNCH:
    CHECK(!t->launched);
    CHECK(e->task_status == APPOSE_TASK_RUNNING);
    t->launched = 1;
    break;
  case APPOSE_RESPONSE_UPDATE: {
    char want[32];
    CHECK(t->launched);
    CHECK(e->task_status == APPOSE_TASK_RUNNING);
    CHECK(e->has_current && e->current == t->updates);
    CHECK(e->has_maximum && e->maximum == t->k);
    snprintf(want, sizeof want, "step %d", t->updates);
    CHECK(e->message != NULL && strcmp(e->message, want) == 0);
    CHECK(e->error == NULL);
    check_info(run, t, e, 1);
    t->updates++;
    break;
  }
  case APPOSE_RESPONSE_COMPLETION:
    CHECK(t->launched && t->updates == t->k);
    CHECK(e->task_status == APPOSE_TASK_COMPLETE);
    CHECK(e->error == NULL);
    t->ended = 1;
    run->ended++;
    check_result(run, t);
    if (t->service == 2) {
      /* Every event of the task went to the listener first. */
      CHECK(atomic_load(&t->listener_calls) == t->k + 2);
      CHECK(atomic_load(&t->listener_anomalies) == 0);
    }
    /* The batch's strings do not depend on the task handle. */
    OK(appose_task_free(t->task));
    t->task = NULL;
    break;
  default:
    fprintf(stderr, "task %d: unexpected response %d: %s\n", t->index, (int)e->response_type,
            e->error ? e->error : "");
    failures++;
    t->ended = 1;
    run->ended++;
  }
}

/* A batch kept past the next take: its events and strings are intact. */
static void recheck_batch(struct run *run, const appose_event_batch *batch) {
  size_t n = appose_event_batch_len(batch);
  for (size_t j = 0; j < n; j++) {
    const appose_event *e = appose_event_batch_get(batch, j);
    CHECK(e != NULL && e->size == sizeof(appose_event));
    if (e == NULL || e->kind != APPOSE_EVENT_TASK)
      continue;
    struct task_rec *t = find_task(run, e->task_id);
    CHECK(t != NULL && (int)e->tag == expected_tag(t));
    if (t != NULL && e->response_type == APPOSE_RESPONSE_UPDATE) {
      char want[32];
      snprintf(want, sizeof want, "step %d", (int)e->current);
      CHECK(e->message != NULL && strcmp(e->message, want) == 0);
      check_info(run, t, e, 0);
    }
  }
  CHECK(appose_event_batch_get(batch, n) == NULL);
}

/* Polls and takes until `done` holds, or no event came for `idle_s`, never
 * blocking anywhere but in poll(). Each batch is freed only after the next
 * take. */
static void pump(struct run *run, appose_queue *queue, double idle_s, int (*done)(const struct run *)) {
  int fd = -1;
  appose_event_batch *previous = NULL;
  double end = now_s() + idle_s;
  OK(appose_queue_fd(queue, &fd, NULL));
  while (!done(run) && now_s() < end) {
    struct pollfd p = {.fd = fd, .events = POLLIN, .revents = 0};
    int r = poll(&p, 1, 1000);
    CHECK(r >= 0);
    run->polls++;
    if (r == 0)
      continue;
    /* Readable: take until a take comes back empty. */
    for (;;) {
      appose_event_batch *batch = NULL;
      OK(appose_queue_take(queue, 256, &batch, NULL));
      size_t n = appose_event_batch_len(batch);
      for (size_t j = 0; j < n; j++)
        handle_event(run, appose_event_batch_get(batch, j));
      run->events += (long)n;
      if (n > 0)
        end = now_s() + idle_s;
      if (previous != NULL) {
        recheck_batch(run, previous);
        OK(appose_event_batch_free(previous));
      }
      previous = batch;
      if (n == 0) {
        run->empty_takes++;
        break;
      }
      run->batches++;
    }
  }
  if (previous != NULL) {
    recheck_batch(run, previous);
    OK(appose_event_batch_free(previous));
    CHECK_STATUS(appose_event_batch_free(previous), APPOSE_STATUS_INVALID_HANDLE);
    CHECK(appose_event_batch_len(previous) == 0);
  }
}

static int all_ended(const struct run *run) { return run->ended == run->n; }

static int all_closed(const struct run *run) {
  for (int s = 0; s < N_SERVICES; s++)
    if (!run->closed[s])
      return 0;
  return 1;
}

static const char *TASK_SCRIPT = "import os\n"
                                 "for j in range(k):\n"
                                 "    task.update(f'step {j}', current=j, maximum=k,\n"
                                 "                info={'n': i} if i % 5 == 0 else None)\n"
                                 "task.outputs['result'] = [i * 3 + 1, os.getpid()]\n";

static const char *ARRAY_SCRIPT = "import os\n"
                                  "from appose import NDArray\n"
                                  "a = NDArray('uint8', [3])\n"
                                  "a.ndarray()[:] = [7, 8, 9]\n"
                                  "task.update('step 0', current=0, maximum=1, info={'preview': a})\n"
                                  "task.outputs['result'] = [i * 3 + 1, os.getpid()]\n";

/* Nothing here blocks: no appose_task_wait, no appose_service_close; the
 * only wait is poll() on the queue's fd. */
static void test_many_tasks(const char *env_dir) {
  struct run run = {0};
  appose_env *env = NULL;
  appose_service *services[N_SERVICES] = {NULL};
  appose_queue *queue = NULL;
  appose_event_batch *batch = NULL;
  char inputs[64];

  run.n = task_count();
  run.tasks = calloc((size_t)run.n, sizeof *run.tasks);
  run.by_id = calloc((size_t)run.n, sizeof *run.by_id);
  CHECK(run.tasks != NULL && run.by_id != NULL);
  if (run.tasks == NULL || run.by_id == NULL)
    return;

  OK(appose_queue_new(&queue, NULL));
  OK(appose_env_wrap(env_dir, &env, NULL));
  for (int s = 0; s < N_SERVICES; s++) {
    OK(appose_env_python(env, &services[s], NULL));
    if (s < 2)
      OK(appose_service_listen_queue(services[s], queue, SERVICE_TAG + (uint64_t)s, NULL));
  }
  OK(appose_env_free(env));

  double t0 = now_s();
  for (int i = 0; i < run.n; i++) {
    struct task_rec *t = &run.tasks[i];
    t->index = i;
    t->service = i % N_SERVICES;
    t->k = i == ARRAY_TASK ? 1 : i % 4;
    snprintf(inputs, sizeof inputs, "{\"i\": %d, \"k\": %d}", i, t->k);
    OK(appose_service_task(services[t->service], i == ARRAY_TASK ? ARRAY_SCRIPT : TASK_SCRIPT, inputs, NULL,
                           &t->task, NULL));
    OK(appose_task_id(t->task, &t->id, NULL));
    if (t->service == 2) {
      OK(appose_task_listen(t->task, on_task_event, t, NULL, NULL));
      OK(appose_task_listen_queue(t->task, queue, TASK_TAG + (uint64_t)i, NULL));
    }
    run.by_id[i] = t;
  }
  qsort(run.by_id, (size_t)run.n, sizeof *run.by_id, by_id_cmp);
  for (int i = 0; i < run.n; i++)
    OK(appose_task_start(run.tasks[i].task, NULL));

  pump(&run, queue, 60, all_ended);
  double t1 = now_s();
  CHECK(run.ended == run.n);
  for (int i = 0; i < run.n; i++) {
    struct task_rec *t = &run.tasks[i];
    if (!t->ended)
      fprintf(stderr, "task %d (%s) did not end: launched %d, %d of %d updates\n", i, t->id, t->launched,
              t->updates, t->k);
  }
  CHECK(run.array_seen == 1);
  for (int s = 0; s < N_SERVICES; s++) {
    CHECK(run.pids[s] > 0);
    for (int o = 0; o < s; o++)
      CHECK(run.pids[s] != run.pids[o]);
  }

  /* Closing without blocking: three CLOSED events through the same queue. */
  for (int s = 0; s < N_SERVICES; s++)
    OK(appose_service_close_async(services[s], 30000, queue, CLOSE_TAG + (uint64_t)s, NULL));
  pump(&run, queue, 60, all_closed);
  double t2 = now_s();
  CHECK(all_closed(&run));
  /* Nothing can send any more: the queue is empty and its fd not readable. */
  OK(appose_queue_take(queue, 0, &batch, NULL));
  CHECK(appose_event_batch_len(batch) == 0);
  OK(appose_event_batch_free(batch));
  int fd = -1;
  OK(appose_queue_fd(queue, &fd, NULL));
  struct pollfd p = {.fd = fd, .events = POLLIN, .revents = 0};
  CHECK(poll(&p, 1, 0) == 0);
  for (int s = 0; s < N_SERVICES; s++)
    CHECK(process_gone(run.pids[s]));

  printf("%d tasks on %d services: %ld events in %ld batches, %ld polls, %ld empty takes; "
         "tasks %.2f s, close %.2f s\n",
         run.n, N_SERVICES, run.events, run.batches, run.polls, run.empty_takes, t1 - t0, t2 - t1);

  /* Cleanup, also after a failure above (unclosed services are killed). */
  for (int i = 0; i < run.n; i++) {
    if (run.tasks[i].task != NULL)
      OK(appose_task_free(run.tasks[i].task));
    appose_string_free(run.tasks[i].id);
  }
  for (int s = 0; s < N_SERVICES; s++) {
    if (!run.closed[s])
      OK(appose_service_kill(services[s], NULL));
    OK(appose_service_free(services[s]));
  }
  OK(appose_queue_free(queue));
  CHECK_STATUS(appose_queue_free(queue), APPOSE_STATUS_INVALID_HANDLE);

  /* The worker's array went with its task and the last batch holding it. */
  CHECK(run.array_block[0] != '\0');
  for (int i = 0; i < 200 && run.array_block[0] != '\0' && shm_exists(run.array_block); i++)
    sleep_ms(10);
  CHECK(run.array_block[0] != '\0' && !shm_exists(run.array_block));
  free(run.by_id);
  /* Listeners of a service that was not closed may still be called. */
  if (all_closed(&run))
    free(run.tasks);
}

/* ---- 4. A crash through the queue -------------------------------------- */

static void test_crash(const char *env_dir) {
  appose_env *env = NULL;
  appose_service *service = NULL;
  appose_task *task = NULL;
  appose_queue *queue = NULL;
  char *id = NULL, *text = NULL;
  int launches = 0, crashes = 0, closes = 0, others = 0;
  appose_task_status status = APPOSE_TASK_INITIAL;

  OK(appose_queue_new(&queue, NULL));
  OK(appose_env_wrap(env_dir, &env, NULL));
  OK(appose_env_python(env, &service, NULL));
  OK(appose_env_free(env));
  OK(appose_service_listen_queue(service, queue, 40, NULL));
  OK(appose_service_task(service, "import os\nos._exit(3)", NULL, NULL, &task, NULL));
  OK(appose_task_id(task, &id, NULL));
  OK(appose_task_start(task, NULL));

  double end = now_s() + 60;
  while (crashes == 0 && now_s() < end) {
    appose_event_batch *batch = take_when_ready(queue, 1000);
    for (size_t j = 0; j < appose_event_batch_len(batch); j++) {
      const appose_event *e = appose_event_batch_get(batch, j);
      CHECK(e->kind == APPOSE_EVENT_TASK && e->tag == 40);
      CHECK(e->task_id != NULL && strcmp(e->task_id, id) == 0);
      if (e->response_type == APPOSE_RESPONSE_LAUNCH) {
        launches++;
      } else if (e->response_type == APPOSE_RESPONSE_CRASH) {
        crashes++;
        CHECK(e->task_status == APPOSE_TASK_CRASHED);
        CHECK(e->error != NULL && strstr(e->error, "exit code 3") != NULL);
      } else {
        others++;
      }
    }
    OK(appose_event_batch_free(batch));
  }
  CHECK(crashes == 1);
  CHECK(launches <= 1); /* the worker may die before its LAUNCH is out */
  CHECK(others == 0);
  OK(appose_task_get_status(task, &status, NULL));
  CHECK(status == APPOSE_TASK_CRASHED);
  OK(appose_task_error(task, &text, NULL));
  CHECK(text != NULL && strstr(text, "exit code 3") != NULL);
  appose_string_free(text);

  OK(appose_service_close_async(service, 30000, queue, 41, NULL));
  end = now_s() + 60;
  while (closes == 0 && now_s() < end) {
    appose_event_batch *batch = take_when_ready(queue, 1000);
    for (size_t j = 0; j < appose_event_batch_len(batch); j++) {
      const appose_event *e = appose_event_batch_get(batch, j);
      CHECK(e->kind == APPOSE_EVENT_CLOSED && e->tag == 41);
      CHECK(e->status == APPOSE_STATUS_OK);
      CHECK(e->exit_code == 3);
      closes++;
    }
    OK(appose_event_batch_free(batch));
  }
  CHECK(closes == 1);
  if (closes == 0)
    OK(appose_service_kill(service, NULL));
  appose_string_free(id);
  OK(appose_task_free(task));
  OK(appose_service_free(service));
  OK(appose_queue_free(queue));
}

/* ---- 5. Closing a worker that never reads stdin ------------------------ */

static void test_deaf_close(const char *env_dir) {
  char dir[] = "/tmp/appose-queue-XXXXXX";
  char pid_file[sizeof dir + 16];
  appose_env *env = NULL;
  appose_service *service = NULL;
  appose_queue *queue = NULL;
  int closes = 0;
  long pid = 0;
  bool alive = true;

  CHECK(mkdtemp(dir) != NULL);
  snprintf(pid_file, sizeof pid_file, "%s/pid", dir);
  const char *candidates[] = {"python"};
  const char *args[] = {"-c",
                        "import os, sys, time\n"
                        "with open(sys.argv[1] + '.tmp', 'w') as f:\n"
                        "    f.write(str(os.getpid()))\n"
                        "os.rename(sys.argv[1] + '.tmp', sys.argv[1])\n"
                        "time.sleep(300)\n",
                        pid_file};
  OK(appose_queue_new(&queue, NULL));
  OK(appose_env_wrap(env_dir, &env, NULL));
  OK(appose_env_service(env, candidates, 1, args, 3, &service, NULL));
  OK(appose_env_free(env));
  OK(appose_service_start(service, NULL));
  for (int i = 0; i < 3000 && pid == 0; i++) {
    FILE *f = fopen(pid_file, "r"); /* renamed into place once written */
    if (f != NULL) {
      if (fscanf(f, "%ld", &pid) != 1)
        pid = 0;
      fclose(f);
    }
    if (pid == 0)
      sleep_ms(10);
  }
  CHECK(pid > 0 && kill((pid_t)pid, 0) == 0);

  double t0 = now_s();
  OK(appose_service_close_async(service, 300, queue, 77, NULL));
  double t1 = now_s();
  double end = now_s() + 60;
  while (closes == 0 && now_s() < end) {
    appose_event_batch *batch = take_when_ready(queue, 1000);
    for (size_t j = 0; j < appose_event_batch_len(batch); j++) {
      const appose_event *e = appose_event_batch_get(batch, j);
      CHECK(e->kind == APPOSE_EVENT_CLOSED && e->tag == 77);
      CHECK(e->status == APPOSE_STATUS_OK);
      CHECK(e->exit_code == 128 + SIGKILL);
      closes++;
    }
    OK(appose_event_batch_free(batch));
  }
  printf("deaf worker: close_async returned in %.3f s, CLOSED after %.3f s\n", t1 - t0, now_s() - t0);
  CHECK(closes == 1);
  CHECK(process_gone((pid_t)pid));
  OK(appose_service_is_alive(service, &alive, NULL));
  CHECK(!alive);
  if (closes == 0)
    OK(appose_service_kill(service, NULL));
  OK(appose_service_free(service));
  OK(appose_queue_free(queue));
  unlink(pid_file);
  rmdir(dir);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s PYTHON_ENV_DIR\n", argv[0]);
    return 2;
  }
  /* Before any service starts, as a JVM host would. */
  OK(appose_set_thread_hooks(on_thread_start, on_thread_exit, &hooks, free_hooks, NULL));
  test_errors_across_threads();
  test_many_tasks(argv[1]);
  test_crash(argv[1]);
  test_deaf_close(argv[1]);
  /* Five services, five closes. */
  check_hooks_balance(N_SERVICES + 2, N_SERVICES + 2);
  if (failures == 0)
    printf("queue_test: all checks passed\n");
  return failures == 0 ? 0 : 1;
}
