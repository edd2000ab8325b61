#!/usr/bin/env bash
# The whole test suite. The tests set up what they need themselves (the
# Python test environment is made by tests/support/python-env.sh).
#   1. cargo test: Rust unit and integration tests, the C programs
#   2. node --test: the C ABI driven from Node through koffi (tests/node) and
#      through ffi-napi (tests/node-ffi-napi), and the Node package
#      (bindings/node)
#   3. ctest: the C and C++ (GoogleTest) suites, built with CMake
#   4. consumers of an installed libappose: find_package and pkg-config
#   5. mvn: the Java binding's JUnit suite on the default JDK through JNI
#      and, when a JDK 22 or later is installed, on it through JNI and FFM
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

# Maven builds only the JNI glue (with the CMake project above) and loads the
# library built above. The Groovy tests need appose-java's jars.
bash tests/support/groovy-deps.sh "$target/tmp/groovy-deps"
java_args=(-q -B -Dstyle.color=never -f bindings/java verify -Dappose.test.python="$target/tmp/python-env"
  -Dappose.test.groovy="$target/tmp/groovy-deps")
if jdk=$(bash bindings/java/toolchains.sh "$target/java-toolchains.xml"); then
  echo "java: the FFM bridge is tested on JDK $jdk"
  java_args+=(-Pffm -t "$target/java-toolchains.xml")
else
  echo "java: 0 passed, 0 failed, 1 skipped (the FFM bridge: no JDK 22 or later is installed)"
fi
rm -rf bindings/java/target/surefire-reports*
java_rc=0
timeout 1500 mvn "${java_args[@]}" || java_rc=$?
# Surefire's counts, for the summary (skipped tests are not passes).
cat bindings/java/target/surefire-reports*/TEST-*.xml 2> /dev/null |
  sed -n 's/.*<testsuite .*tests="\([0-9]*\)".*errors="\([0-9]*\)".*skipped="\([0-9]*\)".*failures="\([0-9]*\)".*/\1 \2 \3 \4/p' |
  awk '{t += $1; e += $2; s += $3; f += $4} END {printf "\njava: %d passed, %d failed, %d skipped\n", t - e - s - f, e + f, s}'
[ "$java_rc" -eq 0 ] || exit "$java_rc"
# The Java README's example compiles against the jar (it builds a uv
# environment from PyPI, so it is compiled, not run).
example="$target/tmp/java-readme-example"
rm -rf "$example" && mkdir -p "$example"
sed -n '/^```java$/,/^```$/{/^```/d;p}' bindings/java/README.md > "$example/Example.java"
javac -Xlint:all -Werror -cp bindings/java/target/libappose-0.2.0.jar -d "$example" "$example/Example.java"
echo "java: the README's example compiles"

# Counted among the passes above (cargo reports them "ok"): say which.
echo "skipped: $(grep -c . "$skipped" || true)"
sed 's/^/  skipped: /' "$skipped"
