// Every header twice, each first on its own: guards and self-containment.
#include "appose/threads.hpp"
#include "appose/error.hpp"
#include "appose/queue.hpp"
#include "appose/shm.hpp"
#include "appose/ndarray.hpp"
#include "appose/value.hpp"
#include "appose/task.hpp"
#include "appose/worker_object.hpp"
#include "appose/service.hpp"
#include "appose/environment.hpp"
#include "appose/builder.hpp"
#include "appose/appose.hpp"
#include "appose/appose.hpp"
#include "appose/builder.hpp"
#include "appose/environment.hpp"
#include "appose/service.hpp"
#include "appose/worker_object.hpp"
#include "appose/task.hpp"
#include "appose/value.hpp"
#include "appose/ndarray.hpp"
#include "appose/shm.hpp"
#include "appose/queue.hpp"
#include "appose/error.hpp"
#include "appose/threads.hpp"
#include "appose.h"

#include <gtest/gtest.h>

extern "C" int appose_double_include_c(void);

TEST(Headers, IncludeTwiceAndAgreeOnTheVersion) {
  EXPECT_EQ(appose_double_include_c(), APPOSE_VERSION_MAJOR);
  EXPECT_EQ(appose::version(), APPOSE_VERSION);
}
