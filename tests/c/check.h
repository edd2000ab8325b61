/*
 * Check macros shared by the C test programs: count failures, report the
 * library's last error, never stop at the first failure.
 */
#ifndef APPOSE_TEST_CHECK_H
#define APPOSE_TEST_CHECK_H

#include <stdio.h>

#include "appose.h"

static int failures = 0;

#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "%s:%d: CHECK failed: %s (last error: %s)\n", __FILE__,  \
              __LINE__, #cond, appose_last_error());                           \
      failures++;                                                              \
    }                                                                          \
  } while (0)

#define CHECK_STATUS(call, expected)                                           \
  do {                                                                         \
    appose_status got_ = (call);                                               \
    if (got_ != (expected)) {                                                  \
      fprintf(stderr, "%s:%d: %s gave %s, expected %s (last error: %s)\n",     \
              __FILE__, __LINE__, #call, appose_status_str((int)got_),         \
              appose_status_str((int)(expected)), appose_last_error());        \
      failures++;                                                              \
    }                                                                          \
  } while (0)

#define OK(call) CHECK_STATUS(call, APPOSE_STATUS_OK)

#endif /* APPOSE_TEST_CHECK_H */
