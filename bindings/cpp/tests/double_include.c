/* The C header twice in one C translation unit: guards and C validity. */
#include "appose.h"
#include "appose.h"

int appose_double_include_c(void) { return APPOSE_VERSION_MAJOR + (int)APPOSE_STATUS_OK; }
