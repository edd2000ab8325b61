/*
 * Arrays through the C ABI: allocate an ndarray, fill it, run a numpy task on
 * it in place, read the worker's own output array back; a 0-d array (one
 * element, no shape) both ways; plus the error
 * paths of blocks, arrays and maps. On exit it leaves one owned block
 * unfreed and prints its name: the runner checks the library removed it.
 *
 * Usage: ndarray_test PYTHON_ENV_DIR
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "appose.h"

#include "check.h"

static void test_errors(void) {
  appose_shm *shm = NULL;
  appose_ndarray *a = NULL;
  appose_map *map = NULL;
  size_t shape[2] = {4, 4};
  char *text = NULL;

  CHECK(strcmp(appose_dtype_name(APPOSE_DTYPE_COMPLEX64), "complex64") == 0);
  CHECK(appose_dtype_name(99) == NULL);
  CHECK(appose_dtype_size(APPOSE_DTYPE_COMPLEX128) == 16);
  CHECK(appose_dtype_size(-1) == 0);

  CHECK_STATUS(appose_ndarray_new(99, shape, 2, APPOSE_ORDER_C, &a, NULL), APPOSE_STATUS_INVALID_ARGUMENT);
  CHECK_STATUS(appose_ndarray_new(APPOSE_DTYPE_INT8, shape, 2, 7, &a, NULL), APPOSE_STATUS_INVALID_ARGUMENT);
  CHECK_STATUS(appose_ndarray_new(APPOSE_DTYPE_INT8, NULL, 2, APPOSE_ORDER_C, &a, NULL), APPOSE_STATUS_NULL_ARGUMENT);
  CHECK(a == NULL);
  CHECK_STATUS(appose_shm_create(0, &shm, NULL), APPOSE_STATUS_INVALID_ARGUMENT);
  CHECK_STATUS(appose_shm_attach("psm_0badf00d", &shm, NULL), APPOSE_STATUS_NOT_FOUND);
  CHECK_STATUS(appose_shm_attach("\xff", &shm, NULL), APPOSE_STATUS_INVALID_UTF8);

  /* A view larger than its block is refused. */
  OK(appose_shm_create(60, &shm, NULL));
  CHECK_STATUS(appose_ndarray_wrap(shm, APPOSE_DTYPE_FLOAT32, shape, 2, APPOSE_ORDER_C, &a, NULL),
               APPOSE_STATUS_INVALID_ARGUMENT);
  CHECK(strstr(appose_last_error(), "needs 64 bytes") != NULL);
  shape[0] = 3;
  OK(appose_ndarray_wrap(shm, APPOSE_DTYPE_FLOAT32, shape, 2, APPOSE_ORDER_C, &a, NULL));
  CHECK_STATUS(appose_shm_create_named("no/slash", 8, &shm, NULL), APPOSE_STATUS_INVALID_ARGUMENT);

  OK(appose_map_new(&map, NULL));
  CHECK_STATUS(appose_map_put_json(map, "x", "{\"appose_type\":\"shm\",\"name\":\"psm_0badf00d\",\"rsize\":8}", NULL),
               APPOSE_STATUS_NOT_FOUND);
  CHECK_STATUS(appose_map_put_json(map, "x", "[1,", NULL), APPOSE_STATUS_INVALID_JSON);
  OK(appose_map_put_json(map, "n", "7", NULL));
  OK(appose_map_put_ndarray(map, "a", a, NULL));
  CHECK_STATUS(appose_map_get_json(map, "missing", &text, NULL), APPOSE_STATUS_NOT_FOUND);
  CHECK_STATUS(appose_map_get_ndarray(map, "n", &a, NULL), APPOSE_STATUS_INVALID_ARGUMENT);
  CHECK_STATUS(appose_map_put_ndarray(map, "bad", (appose_ndarray *)shm, NULL), APPOSE_STATUS_INVALID_HANDLE);
  OK(appose_map_to_json(map, &text, NULL));
  CHECK(strstr(text, "{\"n\":7,\"a\":{\"appose_type\":\"ndarray\",\"dtype\":\"float32\",\"shape\":[3,4],"
                     "\"shm\":{\"appose_type\":\"shm\",\"name\":\"psm_") == text);
  appose_string_free(text);
  OK(appose_map_free(map));
  OK(appose_ndarray_free(a));
  OK(appose_shm_free(shm));
  CHECK_STATUS(appose_shm_free(shm), APPOSE_STATUS_INVALID_HANDLE);
}

static void test_numpy_task(const char *env_dir) {
  appose_env *env = NULL;
  appose_service *python = NULL;
  appose_task *task = NULL;
  appose_ndarray *image = NULL, *stats = NULL;
  appose_map *inputs = NULL, *outputs = NULL;
  size_t shape[2] = {256, 512}; /* F order: 256 fastest, i.e. C shape [512, 256] */
  size_t got[2] = {0, 0};
  size_t nbytes = 0;
  void *p = NULL;

  OK(appose_ndarray_new(APPOSE_DTYPE_FLOAT32, shape, 2, APPOSE_ORDER_F, &image, NULL));
  OK(appose_ndarray_shape(image, APPOSE_ORDER_C, got, 2, NULL));
  CHECK(got[0] == 512 && got[1] == 256);
  CHECK_STATUS(appose_ndarray_shape(image, APPOSE_ORDER_C, got, 1, NULL), APPOSE_STATUS_INVALID_ARGUMENT);
  OK(appose_ndarray_byte_length(image, &nbytes, NULL));
  CHECK(nbytes == 512 * 256 * 4);
  OK(appose_ndarray_data(image, &p, NULL));
  float *pixels = p;
  for (size_t i = 0; i < 512 * 256; i++)
    pixels[i] = (float)(i % 100);

  OK(appose_env_wrap(env_dir, &env, NULL));
  OK(appose_env_python(env, &python, NULL));
  OK(appose_map_new(&inputs, NULL));
  OK(appose_map_put_ndarray(inputs, "image", image, NULL));
  OK(appose_map_put_json(inputs, "scale", "2.5", NULL));
  OK(appose_service_task_map(python,
                             "import numpy as np\n"
                             "from appose import NDArray\n"
                             "v = image.ndarray()\n"
                             "v *= scale\n"
                             "stats = NDArray('float64', [3])\n"
                             "stats.ndarray()[...] = [v.sum(dtype=np.float64), v.max(), v.shape[0]]\n"
                             "{'stats': stats}",
                             inputs, NULL, &task, NULL));
  OK(appose_task_wait(task, 120000, NULL));

  /* The worker scaled our pixels in place: no copy either way. */
  CHECK(pixels[1] == 2.5f);
  CHECK(pixels[99] == 99 * 2.5f);

  OK(appose_task_outputs(task, &outputs, NULL));
  OK(appose_map_get_ndarray(outputs, "stats", &stats, NULL));
  OK(appose_ndarray_data(stats, &p, NULL));
  const double *s = p;
  double expected = 0;
  for (size_t i = 0; i < 512 * 256; i++)
    expected += (double)(i % 100) * 2.5;
  CHECK(s[0] == expected);
  CHECK(s[1] == 99 * 2.5);
  CHECK(s[2] == 512);

  OK(appose_map_free(outputs));
  OK(appose_ndarray_free(stats));
  OK(appose_map_free(inputs));
  OK(appose_task_free(task));
  OK(appose_service_close(python, 30000, NULL, NULL));
  OK(appose_service_free(python));
  OK(appose_env_free(env));
  OK(appose_ndarray_free(image));
}

/* A 0-d array: no extents (shape may be NULL), one element, as numpy's
 * shape (); the worker writes it in place and returns one of its own. */
static void test_scalar(const char *env_dir) {
  appose_env *env = NULL;
  appose_service *python = NULL;
  appose_task *task = NULL;
  appose_ndarray *a = NULL, *out = NULL;
  appose_map *inputs = NULL, *outputs = NULL;
  size_t ndim = 99, nbytes = 0;
  void *p = NULL;
  char *text = NULL;

  OK(appose_ndarray_new(APPOSE_DTYPE_FLOAT64, NULL, 0, APPOSE_ORDER_C, &a, NULL));
  OK(appose_ndarray_ndim(a, &ndim, NULL));
  CHECK(ndim == 0);
  OK(appose_ndarray_shape(a, APPOSE_ORDER_C, NULL, 0, NULL));
  OK(appose_ndarray_shape(a, APPOSE_ORDER_F, NULL, 0, NULL));
  OK(appose_ndarray_byte_length(a, &nbytes, NULL));
  CHECK(nbytes == 8);
  OK(appose_ndarray_data(a, &p, NULL));
  double *x = p;
  *x = 2.5;

  OK(appose_env_wrap(env_dir, &env, NULL));
  OK(appose_env_python(env, &python, NULL));
  OK(appose_map_new(&inputs, NULL));
  OK(appose_map_put_ndarray(inputs, "x", a, NULL));
  OK(appose_map_to_json(inputs, &text, NULL));
  CHECK(strstr(text, "\"dtype\":\"float64\",\"shape\":[],") != NULL);
  appose_string_free(text);
  OK(appose_service_task_map(python,
                             "from appose import NDArray\n"
                             "v = x.ndarray()\n"
                             "out = NDArray('int32', [])\n"
                             "out.ndarray()[()] = int(v * 4)\n"
                             "v[()] = v * 2\n"
                             "{'shape': list(v.shape), 'out': out}",
                             inputs, NULL, &task, NULL));
  OK(appose_task_wait(task, 120000, NULL));
  CHECK(*x == 5.0);
  OK(appose_task_outputs(task, &outputs, NULL));
  OK(appose_map_get_json(outputs, "shape", &text, NULL));
  CHECK(strcmp(text, "[]") == 0);
  appose_string_free(text);
  OK(appose_map_get_ndarray(outputs, "out", &out, NULL));
  OK(appose_ndarray_ndim(out, &ndim, NULL));
  CHECK(ndim == 0);
  OK(appose_ndarray_data(out, &p, NULL));
  CHECK(*(const int32_t *)p == 10);

  OK(appose_ndarray_free(out));
  OK(appose_map_free(outputs));
  OK(appose_map_free(inputs));
  OK(appose_task_free(task));
  OK(appose_service_close(python, 30000, NULL, NULL));
  OK(appose_service_free(python));
  OK(appose_env_free(env));
  OK(appose_ndarray_free(a));
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s PYTHON_ENV_DIR\n", argv[0]);
    return 2;
  }
  test_errors();
  test_numpy_task(argv[1]);
  test_scalar(argv[1]);

  /* Owned and never freed: the library unlinks it at exit. */
  appose_shm *leftover = NULL;
  char *name = NULL;
  OK(appose_shm_create(4096, &leftover, NULL));
  OK(appose_shm_name(leftover, &name, NULL));
  printf("leftover: %s\n", name);
  appose_string_free(name);

  if (failures == 0)
    printf("ndarray_test: all checks passed\n");
  return failures == 0 ? 0 : 1;
}
