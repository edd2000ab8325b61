#!/usr/bin/env bash
# Quickstart: builds libappose and a C++ program with CMake, which builds (or
# reuses) a uv environment with appose and numpy, hands a 512 MiB image to a
# Python worker without copying, and streams the progress of a numpy filter.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

build="$root/target/cmake-quickstart"
cmake -S cmake -B "$build" -DCMAKE_BUILD_TYPE=Release -DAPPOSE_BUILD_QUICKSTART=ON > /dev/null
cmake --build "$build" --target appose_quickstart -j 2
"$build/appose_quickstart"
