#!/usr/bin/env bash
# Benchmarks libappose against the Appose peers, side by side in one run, all
# driving the same appose==0.12.0 Python worker in the same environment:
# the Rust API, the C ABI from C, appose-python's client, appose-java's client
# and a floor client (the least a program can do). Then the client's own cost
# per task against a null worker (tests/bench/null_worker.c), pinned to cores,
# with the system calls per task, and event delivery against a floor reader.
# Writes target/bench/results.md and chart.png and prints the tables. Prints
# ratios; asserts nothing about speed. Not run by CI.
#
# Usage: run.sh [PART...]   PART: peers (~5 min), syscalls (~2 min),
#   null (~2.5 min), events (~2 min), objects (~30 s, only when named); default the first four, about 10 min on an
#   idle 2-core machine (longer when it is busy), plus the first build.
#   A part run alone rebuilds its section of results.md and keeps the others'
#   last figures. syscalls needs strace and perf; null needs taskset and 2 cores.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
out="$root/target/bench"
mkdir -p "$out"

echo "== building" >&2
bash tests/support/python-env.sh "$root/target/tmp/python-env"
cargo build --release --quiet --lib --example bench_client
cc -O2 -std=c11 -Wall -Wextra -Werror -o "$out/floor" tests/bench/floor.c
cc -O2 -std=c11 -Wall -Wextra -Werror -o "$out/null_worker" tests/bench/null_worker.c
cc -O2 -std=c11 -Wall -Wextra -Werror -Iinclude -o "$out/client" tests/bench/client.c \
  -Ltarget/release -Wl,-rpath,"$root/target/release" -lappose
# appose-java from Maven Central (0.9.0 is the newest there; 0.12.0 is not).
(cd tests/bench/java && mvn -q dependency:copy-dependencies -DoutputDirectory="$out/java-deps")
javac -cp "$out/java-deps/*" -d "$out/java" tests/bench/JavaClient.java
# matplotlib for the chart, in a venv of its own.
if [ ! -x "$out/plot-env/bin/python" ]; then
  python3 -m venv "$out/plot-env"
  "$out/plot-env/bin/python" -m pip install --quiet --disable-pip-version-check matplotlib==3.10.7
fi

exec "$out/plot-env/bin/python" tests/bench/run.py "$root" "$out" "$@"
