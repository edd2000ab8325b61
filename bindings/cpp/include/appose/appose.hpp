// libappose C++ wrapper: everything. Header-only, C++17, over the C ABI.
// SPDX-License-Identifier: BSD-2-Clause
#ifndef APPOSE_APPOSE_HPP
#define APPOSE_APPOSE_HPP

#include "appose/builder.hpp"
#include "appose/environment.hpp"
#include "appose/error.hpp"
#include "appose/ndarray.hpp"
#include "appose/queue.hpp"
#include "appose/service.hpp"
#include "appose/shm.hpp"
#include "appose/task.hpp"
#include "appose/threads.hpp"
#include "appose/value.hpp"
#include "appose/worker_object.hpp"

namespace appose {
/// The library's version at run time.
inline std::string version() { return appose_version(); }
}  // namespace appose

#endif  // APPOSE_APPOSE_HPP
