/*
 * Worker objects, variables, calls and the value tree from C, against the
 * real Python worker: a nested output with arrays read at any depth, a
 * datetime used through attributes and methods, put/get of variables,
 * calls, errors with the worker's traceback, and release of worker
 * objects (the worker's export count returns to where it was).
 *
 * Usage: worker_object_test PYTHON_ENV_DIR
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "appose.h"

#include "check.h"

static appose_value *result_of(appose_service *svc, const char *script) {
  appose_task *t = NULL;
  appose_value *v = NULL;
  OK(appose_service_task(svc, script, NULL, NULL, &t, NULL));
  OK(appose_task_wait(t, 60000, NULL));
  OK(appose_task_result(t, &v, NULL));
  appose_task_free(t);
  return v;
}

static int64_t as_i64(const appose_value *v) {
  int64_t i = -1;
  OK(appose_value_i64(v, &i, NULL));
  return i;
}

static int64_t exports(appose_service *svc) {
  appose_value *v = result_of(svc, "len(task._worker.exports)");
  int64_t n = as_i64(v);
  appose_value_free(v);
  return n;
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

static void value_tree(appose_service *svc) {
  appose_value *root = result_of(
      svc,
      "import appose\n"
      "a = appose.NDArray('int16', [2, 2])\n"
      "a.ndarray()[:] = [[1, 2], [3, 4]]\n"
      "task.outputs['result'] = {'name': 'cells', 'big': 123456789012345678901234567890,\n"
      "  'ok': True, 'nan': float('nan'), 'list': [1.5, None, [a]]}");
  int32_t kind = -1;
  OK(appose_value_get_kind(root, &kind, NULL));
  CHECK(kind == APPOSE_VALUE_OBJECT);
  size_t len = 0;
  OK(appose_value_len(root, &len, NULL));
  CHECK(len == 5);
  char *key = NULL;
  OK(appose_value_key(root, 0, &key, NULL));
  CHECK(key != NULL && strcmp(key, "name") == 0);
  appose_string_free(key);

  appose_value *name = NULL, *big = NULL, *ok = NULL, *nan = NULL, *list = NULL;
  OK(appose_value_get(root, "name", &name, NULL));
  OK(appose_value_get(root, "big", &big, NULL));
  OK(appose_value_get(root, "ok", &ok, NULL));
  OK(appose_value_get(root, "nan", &nan, NULL));
  OK(appose_value_get(root, "list", &list, NULL));
  CHECK_STATUS(appose_value_get(root, "missing", &name, NULL), APPOSE_STATUS_NOT_FOUND);

  char *s = NULL;
  OK(appose_value_string(name, &s, NULL));
  CHECK(s != NULL && strcmp(s, "cells") == 0);
  appose_string_free(s);
  int64_t i = 0;
  CHECK_STATUS(appose_value_i64(big, &i, NULL), APPOSE_STATUS_INVALID_ARGUMENT);
  OK(appose_value_number_text(big, &s, NULL));
  CHECK(s != NULL && strcmp(s, "123456789012345678901234567890") == 0);
  appose_string_free(s);
  int32_t b = 0;
  OK(appose_value_bool(ok, &b, NULL));
  CHECK(b == 1);
  double d = 0;
  OK(appose_value_f64(nan, &d, NULL));
  CHECK(d != d);

  /* list[2][0] is the array: typed at depth 3. */
  appose_value *inner = NULL, *arr = NULL, *none = NULL;
  OK(appose_value_at(list, 2, &inner, NULL));
  OK(appose_value_at(inner, 0, &arr, NULL));
  OK(appose_value_at(list, 1, &none, NULL));
  OK(appose_value_get_kind(none, &kind, NULL));
  CHECK(kind == APPOSE_VALUE_NULL);
  CHECK_STATUS(appose_value_at(list, 3, &none, NULL), APPOSE_STATUS_INVALID_ARGUMENT);
  OK(appose_value_get_kind(arr, &kind, NULL));
  CHECK(kind == APPOSE_VALUE_NDARRAY);
  appose_ndarray *nd = NULL;
  OK(appose_value_ndarray(arr, &nd, NULL));
  void *data = NULL;
  OK(appose_ndarray_data(nd, &data, NULL));
  CHECK(data != NULL && ((int16_t *)data)[3] == 4);
  appose_ndarray_free(nd);

  appose_value *handles[] = {name, big, ok, nan, list, inner, arr, none, root};
  for (size_t k = 0; k < sizeof handles / sizeof handles[0]; k++)
    OK(appose_value_free(handles[k]));
  CHECK_STATUS(appose_value_free(root), APPOSE_STATUS_INVALID_HANDLE);
}

static void worker_objects(appose_service *svc) {
  appose_value *v = result_of(svc, "import datetime\ndatetime.datetime(2024, 5, 17, 10, 30)");
  int32_t kind = -1;
  OK(appose_value_get_kind(v, &kind, NULL));
  CHECK(kind == APPOSE_VALUE_WORKER_OBJECT);
  appose_worker_object *dt = NULL;
  OK(appose_value_worker_object(v, &dt, NULL));
  appose_value_free(v);

  appose_value *year = NULL;
  OK(appose_worker_object_attr(dt, "year", &year, NULL));
  CHECK(as_i64(year) == 2024);
  appose_value_free(year);

  appose_value *iso = NULL;
  OK(appose_worker_object_invoke(dt, "isoformat", NULL, 0, &iso, NULL));
  char *s = NULL;
  OK(appose_value_string(iso, &s, NULL));
  CHECK(s != NULL && strcmp(s, "2024-05-17T10:30:00") == 0);
  appose_string_free(s);
  appose_value_free(iso);

  char *names = NULL;
  OK(appose_worker_object_dir(dt, &names, NULL));
  CHECK(names != NULL && strstr(names, "\"weekday\"") != NULL);
  appose_string_free(names);

  /* The object as an argument of a call: the worker sees the object. */
  appose_value *arg = NULL, *str = NULL;
  OK(appose_value_from_worker_object(dt, &arg, NULL));
  const appose_value *args[] = {arg};
  OK(appose_service_call(svc, "str", args, 1, NULL, &str, NULL));
  OK(appose_value_string(str, &s, NULL));
  CHECK(s != NULL && strcmp(s, "2024-05-17 10:30:00") == 0);
  appose_string_free(s);
  appose_value_free(str);
  appose_value_free(arg);

  /* A missing attribute fails with the worker's traceback. */
  appose_error *err = NULL;
  appose_value *nothing = NULL;
  CHECK_STATUS(appose_worker_object_attr(dt, "nope", &nothing, &err), APPOSE_STATUS_TASK_FAILED);
  CHECK(err != NULL && strstr(appose_error_message(err), "AttributeError") != NULL);
  appose_error_free(err);
  appose_worker_object_free(dt);

  /* The non-blocking form: a task whose result is the value. */
  appose_value *name = NULL;
  OK(appose_value_from_json("\"cells\"", &name, NULL));
  OK(appose_service_put_var(svc, "label", name, NULL, NULL));
  appose_value_free(name);
  appose_task *t = NULL;
  OK(appose_service_get_var_task(svc, "label", NULL, &t, NULL));
  OK(appose_task_start(t, NULL));
  OK(appose_task_wait(t, 60000, NULL));
  char *json = NULL;
  OK(appose_task_result_json(t, &json, NULL));
  CHECK(json != NULL && strcmp(json, "\"cells\"") == 0);
  appose_string_free(json);
  appose_task_free(t);
}

/* Polls the worker's export count until it is `want` (releases are
 * batched and asynchronous); the last count seen. */
static int64_t exports_become(appose_service *svc, int64_t want) {
  int64_t now = exports(svc);
  for (int i = 0; i < 300 && now != want; i++) {
    sleep_ms(100);
    now = exports(svc);
  }
  return now;
}

/* `base` is the export count before this program made any object; the
 * variable `label` (put by worker_objects) is the one export that stays. */
static void release(appose_service *svc, int64_t base) {
  CHECK(exports_become(svc, base + 1) == base + 1); /* earlier objects gone */
  appose_value *many = result_of(svc, "[object() for _ in range(2000)]");
  size_t n = 0;
  OK(appose_value_len(many, &n, NULL));
  CHECK(n == 2000);
  /* A handle of our own to one of them keeps that one alive. */
  appose_value *first = NULL;
  appose_worker_object *kept = NULL;
  OK(appose_value_at(many, 0, &first, NULL));
  OK(appose_value_worker_object(first, &kept, NULL));
  appose_value_free(first);
  CHECK(exports(svc) == base + 1 + 2000);
  appose_value_free(many);
  CHECK(exports_become(svc, base + 2) == base + 2);
  appose_value *cls = NULL;
  OK(appose_worker_object_attr(kept, "__class__", &cls, NULL));
  appose_value_free(cls);
  appose_worker_object_free(kept);
  CHECK(exports_become(svc, base + 1) == base + 1);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s PYTHON_ENV_DIR\n", argv[0]);
    return 2;
  }
  appose_env *env = NULL;
  appose_service *svc = NULL;
  OK(appose_env_wrap(argv[1], &env, NULL));
  OK(appose_env_python(env, &svc, NULL));
  appose_env_free(env);
  if (svc == NULL)
    return 1;
  int64_t base = exports(svc);
  value_tree(svc);
  worker_objects(svc);
  release(svc, base);
  OK(appose_service_close(svc, 10000, NULL, NULL));
  appose_service_free(svc);
  if (failures == 0)
    printf("all checks passed\n");
  return failures == 0 ? 0 : 1;
}
