#!/usr/bin/env bash
# Installs libappose into a scratch prefix with CMake, then builds and runs
# consumers against the installed files only: a CMake project using
# find_package(appose) (C++ wrapper, shared; C, static) and a C program
# compiled with `pkg-config --cflags --libs appose`.
# Usage: run.sh CMAKE_BUILD_DIR PYTHON_ENV_DIR
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${1:?usage: run.sh CMAKE_BUILD_DIR PYTHON_ENV_DIR}
env_dir=${2:?usage: run.sh CMAKE_BUILD_DIR PYTHON_ENV_DIR}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
prefix="$scratch/prefix"

cmake --install "$build" --prefix "$prefix" > /dev/null
# The installed library's SONAME is a link in the prefix, as is libappose.so.
soname=$(readelf -d "$prefix/lib/libappose.so" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
test -n "$soname" && test -L "$prefix/lib/$soname" && test -L "$prefix/lib/libappose.so"
test -f "$prefix/lib/pkgconfig/appose.pc"

cmake -S "$root/tests/consumer" -B "$scratch/consumer" -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_BUILD_RPATH="$prefix/lib" > /dev/null
cmake --build "$scratch/consumer" > /dev/null
"$scratch/consumer/consumer_cpp" "$env_dir"
"$scratch/consumer/consumer_static" "$env_dir"

export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
# shellcheck disable=SC2046
cc -std=c11 -Wall -Wextra -Werror "$root/tests/consumer/consumer.c" -o "$scratch/consumer_pc" \
  $(pkg-config --cflags --libs appose) -Wl,-rpath,"$(pkg-config --variable=libdir appose)"
"$scratch/consumer_pc" "$env_dir"
echo "consumers: 3 passed, 0 failed"
