/* Runs one task through an installed libappose from C. Usage: consumer ENV_DIR */
#include <stdio.h>
#include <string.h>

#include <appose.h>

int main(int argc, char **argv) {
  appose_env *env = NULL;
  appose_service *python = NULL;
  appose_task *task = NULL;
  char *result = NULL;
  int ok = 0;
  if (argc != 2) return 2;
  if (appose_env_wrap(argv[1], &env, NULL) == APPOSE_STATUS_OK && appose_env_python(env, &python, NULL) == APPOSE_STATUS_OK &&
      appose_service_task(python, "x * 2", "{\"x\": 21}", NULL, &task, NULL) == APPOSE_STATUS_OK &&
      appose_task_wait(task, 60000, NULL) == APPOSE_STATUS_OK && appose_task_result_json(task, &result, NULL) == APPOSE_STATUS_OK) {
    printf("%s (libappose %s): %s\n", argv[0], appose_version(), result);
    ok = strcmp(result, "42") == 0;
  } else {
    fprintf(stderr, "%s\n", appose_last_error());
  }
  appose_string_free(result);
  appose_task_free(task);
  appose_service_close(python, 10000, NULL, NULL);
  appose_service_free(python);
  appose_env_free(env);
  return ok ? 0 : 1;
}
