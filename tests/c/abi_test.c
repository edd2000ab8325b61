/*
 * The C ABI from C: a real task with a listener, and the error paths (NULL
 * arguments, invalid UTF-8, bad JSON, freed handles, userdata released once,
 * blocking calls refused inside a callback, a builder refusing to delete a
 * directory that is not an environment), getters through const handles, the
 * worker's process id against /proc, absolute program paths.
 *
 * Usage: abi_test PYTHON_ENV_DIR
 */
#define _POSIX_C_SOURCE 200809L
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "appose.h"

#include "check.h"

struct recorder {
  appose_task *task;
  int launches, updates, completions, others;
  int last_current;
  int reentrant_refused;
};

static atomic_int frees = 0;

static void count_free(void *userdata) {
  (void)userdata;
  atomic_fetch_add(&frees, 1);
}

static void on_event(void *userdata, const appose_event *event) {
  struct recorder *r = userdata;
  switch (event->response_type) {
  case APPOSE_RESPONSE_LAUNCH:
    r->launches++;
    break;
  case APPOSE_RESPONSE_UPDATE:
    r->updates++;
    if (event->has_current)
      r->last_current = (int)event->current;
    if (event->message == NULL || strncmp(event->message, "step ", 5) != 0)
      r->others++;
    break;
  case APPOSE_RESPONSE_COMPLETION:
    r->completions++;
    break;
  default:
    r->others++;
  }
  /* Blocking from inside a callback must be refused, not deadlock. */
  if (appose_task_wait(r->task, -1, NULL) == APPOSE_STATUS_REENTRANT)
    r->reentrant_refused++;
}

static void on_debug(void *userdata, const char *message) {
  (void)userdata;
  (void)message;
}

static void test_error_paths(void) {
  appose_env *env = NULL;
  appose_service *service = NULL;

  CHECK(strcmp(appose_version(), APPOSE_VERSION) == 0);
  CHECK(strcmp(appose_status_str(APPOSE_STATUS_TIMEOUT), "APPOSE_STATUS_TIMEOUT") == 0);
  CHECK(strcmp(appose_status_str(12345), "APPOSE_STATUS_UNKNOWN") == 0);
  CHECK(strcmp(appose_task_status_str(APPOSE_TASK_CRASHED), "CRASHED") == 0);

  CHECK_STATUS(appose_env_wrap(NULL, &env, NULL), APPOSE_STATUS_NULL_ARGUMENT);
  CHECK(strstr(appose_last_error(), "dir") != NULL);
  CHECK(env == NULL);
  CHECK_STATUS(appose_env_wrap("/tmp", NULL, NULL), APPOSE_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(appose_env_wrap("\xff\xfe", &env, NULL), APPOSE_STATUS_INVALID_UTF8);
  CHECK_STATUS(appose_env_wrap("/no/such/dir/anywhere", &env, NULL), APPOSE_STATUS_NOT_FOUND);
  CHECK(env == NULL);
  CHECK_STATUS(appose_env_python(NULL, &service, NULL), APPOSE_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(appose_service_start(NULL, NULL), APPOSE_STATUS_NULL_ARGUMENT);
  CHECK_STATUS(appose_task_wait(NULL, 0, NULL), APPOSE_STATUS_NULL_ARGUMENT);
  appose_string_free(NULL); /* a no-op */

  OK(appose_env_wrap("/", &env, NULL));
  OK(appose_env_free(env));
  /* Freed twice, or used after free: a status, never a crash. */
  CHECK_STATUS(appose_env_free(env), APPOSE_STATUS_INVALID_HANDLE);
  CHECK_STATUS(appose_env_python(env, &service, NULL), APPOSE_STATUS_INVALID_HANDLE);
  /* A handle of another kind. */
  OK(appose_env_system(&env, NULL));
  CHECK_STATUS(appose_service_start((appose_service *)env, NULL), APPOSE_STATUS_INVALID_HANDLE);
  CHECK_STATUS(appose_env_free(NULL), APPOSE_STATUS_OK);
  OK(appose_env_free(env));
}

static void test_task(const char *env_dir) {
  appose_env *env = NULL;
  appose_service *service = NULL;
  appose_task *task = NULL;
  char *text = NULL;
  struct recorder rec = {0};
  int exit_code = -2;
  appose_task_status status;

  OK(appose_env_wrap(env_dir, &env, NULL));
  OK(appose_env_base(env, &text, NULL));
  CHECK(text != NULL && strlen(text) > 0);
  appose_string_free(text);
  OK(appose_env_python(env, &service, NULL));
  OK(appose_env_free(env)); /* the service does not need it */

  atomic_store(&frees, 0);
  CHECK_STATUS(appose_service_debug(service, NULL, NULL, count_free, NULL), APPOSE_STATUS_NULL_ARGUMENT);
  OK(appose_service_debug(service, on_debug, NULL, count_free, NULL));
  CHECK_STATUS(appose_service_init(service, "\xc3\x28", NULL), APPOSE_STATUS_INVALID_UTF8);
  OK(appose_service_init(service, "offset = 10", NULL));

  /* Bad inputs are refused before anything is sent. */
  CHECK_STATUS(appose_service_task(service, "1", "{not json", NULL, &task, NULL), APPOSE_STATUS_INVALID_JSON);
  CHECK_STATUS(appose_service_task(service, "1", "[1, 2]", NULL, &task, NULL), APPOSE_STATUS_INVALID_JSON);
  CHECK_STATUS(appose_service_task(service, NULL, NULL, NULL, &task, NULL), APPOSE_STATUS_NULL_ARGUMENT);
  CHECK(task == NULL);

  OK(appose_service_task(service,
                         "for i in range(n):\n"
                         "    task.update(f'step {i}', current=i, maximum=n)\n"
                         "{'total': sum(range(n)) + offset, 'nan': float('nan')}",
                         "{\"n\": 5}", NULL, &task, NULL));
  rec.task = task;
  OK(appose_task_listen(task, on_event, &rec, count_free, NULL));
  OK(appose_task_wait(task, 60000, NULL));
  /* Every listener call returned before wait did; userdata freed once. */
  CHECK(rec.launches == 1);
  CHECK(rec.updates == 5);
  CHECK(rec.last_current == 4);
  CHECK(rec.completions == 1);
  CHECK(rec.others == 0);
  CHECK(rec.reentrant_refused == 7);
  CHECK(atomic_load(&frees) == 1);

  /* Getters take const handles (a warning, so an error here, if not). */
  const appose_task *done = task;
  OK(appose_task_get_status(done, &status, NULL));
  CHECK(status == APPOSE_TASK_COMPLETE);
  OK(appose_task_outputs_json(done, &text, NULL));
  CHECK(strcmp(text, "{\"total\":20,\"nan\":NaN}") == 0);
  appose_string_free(text);
  OK(appose_task_result_json(done, &text, NULL));
  CHECK(strcmp(text, "null") == 0);
  appose_string_free(text);
  OK(appose_task_error(done, &text, NULL));
  CHECK(text == NULL);
  OK(appose_task_id(done, &text, NULL));
  CHECK(text != NULL && strlen(text) > 0);
  appose_string_free(text);
  appose_map *outputs = NULL;
  OK(appose_task_outputs(done, &outputs, NULL));
  OK(appose_map_free(outputs));
  /* Too late for listeners: refused, and the caller keeps its userdata. */
  CHECK_STATUS(appose_task_listen(task, on_event, &rec, count_free, NULL), APPOSE_STATUS_INVALID_STATE);
  CHECK(atomic_load(&frees) == 1);
  OK(appose_task_free(task));
  CHECK_STATUS(appose_task_free(task), APPOSE_STATUS_INVALID_HANDLE);
  CHECK_STATUS(appose_task_wait(task, 0, NULL), APPOSE_STATUS_INVALID_HANDLE);

  /* A failing task: its status and the traceback. */
  OK(appose_service_task(service, "1 / 0", NULL, NULL, &task, NULL));
  CHECK_STATUS(appose_task_wait(task, 60000, NULL), APPOSE_STATUS_TASK_FAILED);
  CHECK(strstr(appose_last_error(), "ZeroDivisionError") != NULL);
  OK(appose_task_error(task, &text, NULL));
  CHECK(text != NULL && strstr(text, "ZeroDivisionError: division by zero") != NULL);
  appose_string_free(text);
  OK(appose_task_free(task));

  /* A task freed before it starts releases its listener's userdata once. */
  OK(appose_service_task(service, "1", NULL, NULL, &task, NULL));
  OK(appose_task_listen(task, on_event, &rec, count_free, NULL));
  OK(appose_task_free(task));
  CHECK(atomic_load(&frees) == 2);

  /* A main-queue task with a result. */
  OK(appose_service_task(service, "offset * 2", NULL, "main", &task, NULL));
  OK(appose_task_wait(task, 60000, NULL));
  OK(appose_task_result_json(task, &text, NULL));
  CHECK(strcmp(text, "20") == 0);
  appose_string_free(text);
  OK(appose_task_free(task));

  OK(appose_service_close(service, 30000, &exit_code, NULL));
  CHECK(exit_code == 0);
  OK(appose_service_task(service, "1", NULL, NULL, &task, NULL));
  CHECK_STATUS(appose_task_start(task, NULL), APPOSE_STATUS_SERVICE_CLOSED);
  OK(appose_task_free(task));
  OK(appose_service_free(service));
  /* The debug listener's userdata goes once the service is gone. */
  for (int i = 0; i < 500 && atomic_load(&frees) < 3; i++) {
    struct timespec ts = {0, 10 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  CHECK(atomic_load(&frees) == 3);
}

/* The text of a /proc file, NULs (between cmdline's arguments) made spaces;
 * "" when it cannot be read. */
static void read_proc(long pid, const char *what, char *buf, size_t size) {
  char path[64];
  size_t n = 0;
  snprintf(path, sizeof path, "/proc/%ld/%s", pid, what);
  FILE *f = fopen(path, "rb");
  if (f != NULL) {
    n = fread(buf, 1, size - 1, f);
    fclose(f);
  }
  for (size_t i = 0; i < n; i++)
    if (buf[i] == '\0')
      buf[i] = ' ';
  buf[n] = '\0';
}

/* The parent pid in /proc/<pid>/stat ("pid (comm) state ppid ..."). */
static long parent_of(long pid) {
  char stat[512];
  long ppid = -1;
  read_proc(pid, "stat", stat, sizeof stat);
  const char *after = strrchr(stat, ')');
  if (after == NULL || sscanf(after + 1, " %*c %ld", &ppid) != 1)
    return -1;
  return ppid;
}

/* appose_service_pid: refused before start; our child, running what the
 * service runs, while alive; the same id after the worker exits. The
 * program is an absolute path, which appose_env_service takes as it is. */
static void test_service_pid(const char *env_dir) {
  appose_env *env = NULL;
  appose_service *service = NULL;
  char text[4096];
  int64_t pid = -7;
  int exit_code = -2;
  bool alive = false;
  const char *missing[] = {"/no/such/dir/sh"};
  const char *candidates[] = {"/no/such/dir/sh", "/bin/sh"};
  /* Exits with 3 when its stdin closes. */
  const char *args[] = {"-c", "read line; exit 3", "appose-pid-test"};

  OK(appose_env_wrap(env_dir, &env, NULL));
  CHECK_STATUS(appose_env_service(env, missing, 1, args, 3, &service, NULL), APPOSE_STATUS_NOT_FOUND);
  CHECK(strstr(appose_last_error(), "/no/such/dir/sh") != NULL);
  CHECK(service == NULL);
  OK(appose_env_service(env, candidates, 2, args, 3, &service, NULL));
  OK(appose_env_free(env));

  const appose_service *view = service;
  CHECK_STATUS(appose_service_pid(view, &pid, NULL), APPOSE_STATUS_INVALID_STATE);
  CHECK(pid == -7);
  CHECK_STATUS(appose_service_pid(view, NULL, NULL), APPOSE_STATUS_NULL_ARGUMENT);
  OK(appose_service_start(service, NULL));
  OK(appose_service_pid(view, &pid, NULL));
  CHECK(pid > 0);
  OK(appose_service_is_alive(view, &alive, NULL));
  CHECK(alive);
  CHECK(parent_of((long)pid) == (long)getpid());
  /* The command line shows once the child has exec'd: under load that
   * may be a moment after start returns. */
  for (int i = 0; i < 500; i++) {
    read_proc((long)pid, "cmdline", text, sizeof text);
    if (strcmp(text, "/bin/sh -c read line; exit 3 appose-pid-test ") == 0)
      break;
    struct timespec ts = {0, 10 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  CHECK(strcmp(text, "/bin/sh -c read line; exit 3 appose-pid-test ") == 0);

  OK(appose_service_close(service, 30000, &exit_code, NULL));
  CHECK(exit_code == 3);
  OK(appose_service_is_alive(view, &alive, NULL));
  CHECK(!alive);
  int64_t after = -7;
  OK(appose_service_pid(view, &after, NULL));
  CHECK(after == pid);
  char *lines = NULL;
  OK(appose_service_error_lines(view, &lines, NULL));
  CHECK(strcmp(lines, "[]") == 0);
  appose_string_free(lines);
  OK(appose_service_invalid_lines(view, &lines, NULL));
  CHECK(strcmp(lines, "[]") == 0);
  appose_string_free(lines);
  OK(appose_service_free(service));
}

static void on_progress(void *userdata, const char *title, uint64_t current, uint64_t maximum) {
  (void)userdata;
  (void)title;
  (void)current;
  (void)maximum;
}

static void test_builder(const char *env_dir) {
  appose_builder *b = NULL;
  appose_env *env = NULL;
  appose_service *service = NULL;
  appose_task *task = NULL;
  char *text = NULL;

  CHECK_STATUS(appose_builder_new("conda-forge-magic", &b, NULL), APPOSE_STATUS_INVALID_ARGUMENT);
  CHECK(b == NULL);

  /* custom: a directory as it is, with a variable for its workers. */
  OK(appose_builder_new("custom", &b, NULL));
  OK(appose_builder_base(b, env_dir, NULL));
  OK(appose_builder_env_var(b, "APPOSE_C_MARK", "from-c", NULL));
  CHECK_STATUS(appose_builder_env_var(b, "A=B", "x", NULL), APPOSE_STATUS_INVALID_ARGUMENT);
  atomic_store(&frees, 0);
  OK(appose_builder_on_progress(b, on_progress, NULL, count_free, NULL));
  OK(appose_builder_build(b, &env, NULL));
  OK(appose_builder_free(b));
  CHECK(atomic_load(&frees) == 1);
  OK(appose_env_launch_args(env, &text, NULL));
  CHECK(strcmp(text, "[]") == 0);
  appose_string_free(text);
  OK(appose_env_bin_paths(env, &text, NULL));
  CHECK(strstr(text, "/bin\"") != NULL);
  appose_string_free(text);
  OK(appose_env_python(env, &service, NULL));
  OK(appose_service_task(service, "import os\nos.environ['APPOSE_C_MARK']", NULL, NULL, &task, NULL));
  OK(appose_task_wait(task, 60000, NULL));
  OK(appose_task_result_json(task, &text, NULL));
  CHECK(strcmp(text, "\"from-c\"") == 0);
  appose_string_free(text);
  OK(appose_task_free(task));
  OK(appose_service_close(service, 30000, NULL, NULL));
  OK(appose_service_free(service));
  OK(appose_env_free(env));

  /* Content that fits no builder, or not the chosen one: refused at once,
   * before any tool is fetched (the mirror is unreachable). */
  OK(appose_builder_new(NULL, &b, NULL));
  OK(appose_builder_content(b, "%%% not an environment %%%", NULL));
  CHECK_STATUS(appose_builder_build(b, &env, NULL), APPOSE_STATUS_INVALID_ARGUMENT);
  OK(appose_builder_free(b));
  OK(appose_builder_new("uv", &b, NULL));
  OK(appose_builder_tool_mirror(b, "http://127.0.0.1:9", NULL));
  OK(appose_builder_envs_root(b, "/nonexistent/appose-envs", NULL));
  OK(appose_builder_content(b, "name: x\ndependencies:\n  - python\n", NULL));
  CHECK_STATUS(appose_builder_build(b, &env, NULL), APPOSE_STATUS_INVALID_ARGUMENT);
  CHECK(strstr(appose_last_error(), "requirements.txt or pyproject.toml") != NULL);
  CHECK_STATUS(appose_builder_scheme(b, "setup.py", NULL), APPOSE_STATUS_INVALID_ARGUMENT);
  CHECK_STATUS(appose_builder_file(b, "/no/such/requirements.txt", NULL), APPOSE_STATUS_NOT_FOUND);
  OK(appose_builder_free(b));
  CHECK_STATUS(appose_builder_free(b), APPOSE_STATUS_INVALID_HANDLE);
}

static void write_text(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  CHECK(f != NULL);
  if (f != NULL) {
    fputs(text, f);
    fclose(f);
  }
}

static int exists(const char *path) {
  struct stat st;
  return stat(path, &st) == 0;
}

/* delete and rebuild on a user's directory: refused with the reason, the
 * file kept; on an environment (appose.json): deleted. */
static void test_builder_delete(void) {
  char dir[] = "/tmp/appose-abi-XXXXXXXX";
  char file[sizeof dir + 16], state[sizeof dir + 16];
  appose_builder *b = NULL;
  appose_env *env = NULL;
  CHECK(mkdtemp(dir) != NULL);
  snprintf(file, sizeof file, "%s/notes.txt", dir);
  snprintf(state, sizeof state, "%s/appose.json", dir);
  write_text(file, "mine");

  OK(appose_builder_new("uv", &b, NULL));
  OK(appose_builder_base(b, dir, NULL));
  /* Nothing is fetched into the real envs root should the refusal fail. */
  OK(appose_builder_envs_root(b, "/nonexistent/appose-envs", NULL));
  OK(appose_builder_tool_mirror(b, "http://127.0.0.1:9", NULL));
  CHECK_STATUS(appose_builder_delete(b, NULL), APPOSE_STATUS_INVALID_ARGUMENT);
  CHECK(strstr(appose_last_error(), "refusing to delete /tmp/appose-abi-") != NULL);
  CHECK(strstr(appose_last_error(), ": it is not an environment (no appose.json, ") != NULL);
  CHECK(exists(file));
  CHECK_STATUS(appose_builder_rebuild(b, &env, NULL), APPOSE_STATUS_INVALID_ARGUMENT);
  CHECK(env == NULL);
  CHECK(strstr(appose_last_error(), "not an environment") != NULL);
  CHECK(exists(file));

  write_text(state, "{}");
  OK(appose_builder_delete(b, NULL));
  CHECK(!exists(dir));
  OK(appose_builder_free(b));
  if (exists(dir)) { /* only after a failure above */
    unlink(file);
    unlink(state);
    rmdir(dir);
  }
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s PYTHON_ENV_DIR\n", argv[0]);
    return 2;
  }
  test_error_paths();
  test_task(argv[1]);
  test_service_pid(argv[1]);
  test_builder(argv[1]);
  test_builder_delete();
  if (failures == 0)
    printf("abi_test: all checks passed\n");
  return failures == 0 ? 0 : 1;
}
