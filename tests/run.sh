#!/usr/bin/env bash
# The whole test suite. The tests set up what they need themselves (the
# Python test environment is made by tests/support/python-env.sh).
#   1. cargo test: Rust unit and integration tests, the C programs
#   2. node --test: the C ABI driven from Node through koffi (tests/node) and
#      through ffi-napi (tests/node-ffi-napi), and the Node package
#      (bindings/node)
#   3. ctest: the C and C++ (GoogleTest) suites, built with CMake
#   4. consumers of an installed libappose: find_package and pkg-config
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

# The C tests that cargo runs link the shared library, which `cargo test`
# does not build.
cargo build --features fault-injection
target=$(cd "${CARGO_TARGET_DIR:-target}" && pwd)
# Tests that cannot run here (a tool or a privilege missing) record why in
# this file (tests/common: skip), counted at the end.
skipped="$target/tmp/skipped.txt"
mkdir -p "$target/tmp"
: > "$skipped"
cargo test --features fault-injection

# The Node tests load the library cargo just built; npm only fetches koffi,
# and ffi-napi with ref-napi (their prebuilt binaries: install scripts never
# run, nothing is compiled; ffi-napi's source build fails on Node 20).
# bindings/node is the Node package; tests/node drives the raw C ABI with
# the package's declarations (so the package is installed first);
# tests/node-ffi-napi drives it through ffi-napi and the event queue.
for dir in bindings/node tests/node tests/node-ffi-napi; do
  (
    cd "$dir"
    if [ "$dir" = tests/node-ffi-napi ]; then
      # Without it the test reports itself skipped, with the reason.
      npm install --no-audit --no-fund --prefer-offline --ignore-scripts --loglevel=error ||
        echo "ffi-napi could not be installed: tests/node-ffi-napi will report itself skipped" >&2
    else
      npm ci --no-audit --no-fund --prefer-offline --ignore-scripts --loglevel=error
    fi
    APPOSE_LIB="$target/debug/libappose.so" APPOSE_TEST_PYTHON_ENV="$target/tmp/python-env" \
      timeout 300 node --test --test-reporter=tap
  )
done

build="$root/target/cmake-tests"
generator=()
command -v ninja > /dev/null && generator=(-G Ninja)
if [ -f "$build/CMakeCache.txt" ] && ! grep -q "CMAKE_GENERATOR:INTERNAL=${generator[1]:-Unix Makefiles}\$" "$build/CMakeCache.txt"; then
  rm -rf "$build"
fi
cmake -S cmake -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release -DAPPOSE_BUILD_TESTS=ON > /dev/null
cmake --build "$build" -j 2
(cd "$build" && ctest --output-on-failure -j 2)

bash tests/consumer/run.sh "$build" "$root/target/tmp/python-env"

# Counted among the passes above (cargo reports them "ok"): say which.
echo "skipped: $(grep -c . "$skipped" || true)"
sed 's/^/  skipped: /' "$skipped"
