#!/usr/bin/env bash
# Puts libappose and the JNI glue into DEST/native/<platform>/, where the jar
# carries them. The glue is built by the project's CMake; libappose is the
# one cargo built (CMake runs cargo only when it is missing or older than
# its sources, as on a fresh clone). Maven runs this (generate-resources).
# Usage: build-native.sh DEST JAVA_HOME (a JDK: its JNI headers are used)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
dest=$1
java_home=$2
build="$root/target/cmake-jni"
generator=()
command -v ninja > /dev/null && generator=(-G Ninja)
if [ -f "$build/CMakeCache.txt" ] && ! grep -q "CMAKE_GENERATOR:INTERNAL=${generator[1]:-Unix Makefiles}\$" "$build/CMakeCache.txt"; then
  rm -rf "$build"
fi
cmake -S "$root/cmake" -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
  -DAPPOSE_BUILD_JNI=ON -DAPPOSE_BUILD_QUICKSTART=OFF -DAPPOSE_JAVA_HOME="$java_home" > /dev/null
cmake --build "$build" --target appose_jni > /dev/null
platform="linux-$(uname -m)"
mkdir -p "$dest/native/$platform"
cp "$root/target/release/libappose.so" "$build/libappose_jni.so" "$dest/native/$platform/"
