#!/usr/bin/env bash
# The Java binding against appose-java's own client (0.9.0), in one run, all
# driving the same appose==0.12.0 Python worker: the 2,000-task round trip
# and 100,000 UPDATE events through JNI (on the default JDK and on a JDK
# 22+), FFM (JDK 22+), and appose-java, with the C ABI from C
# (tests/bench/client.c) as the reference. Prints each figure and the ratios
# to appose-java; asserts nothing. Not run by CI. About 3 minutes.
# Usage: bindings/java/bench/run.sh [ROUNDS]   (default 3; the median is kept)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
cd "$root"
rounds=${1:-3}
out="$root/target/bench/java-binding"
mkdir -p "$out"
env_dir="$root/target/tmp/python-env"
bash tests/support/python-env.sh "$env_dir" > /dev/null
cargo build --release --quiet --lib
tc="$root/target/java-toolchains.xml"
jdk_ffm=""
mvn_args=(-q -B -f bindings/java package -DskipTests)
if bash bindings/java/toolchains.sh "$tc" > /dev/null; then
  jdk_ffm=$(sed -n 's|.*<jdkHome>\(.*\)</jdkHome>.*|\1|p' "$tc")
  mvn_args+=(-Pffm -t "$tc")
fi
mvn "${mvn_args[@]}"
jar="$root/bindings/java/target/libappose-0.2.0.jar"
javac --release 11 -cp "$jar" -d "$out/classes" bindings/java/bench/LibApposeClient.java
(cd tests/bench/java && mvn -q dependency:copy-dependencies -DoutputDirectory="$out/appose-java")
javac -cp "$out/appose-java/*" -d "$out/classes" tests/bench/JavaClient.java
cc -O2 -std=c11 -Wall -Wextra -Werror -Iinclude -o "$out/c-client" tests/bench/client.c \
  -Ltarget/release -Wl,-rpath,"$root/target/release" -lappose

clients=("appose-java 0.9.0|java -cp $out/appose-java/*:$out/classes JavaClient"
  "libappose JNI, JDK $(java -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')|java -Dlibappose.bridge=jni -cp $jar:$out/classes LibApposeClient")
clients+=("C ABI from C (reference)|$out/c-client")
if [ -n "$jdk_ffm" ]; then
  v=$("$jdk_ffm/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')
  clients+=("libappose JNI, JDK $v|$jdk_ffm/bin/java --enable-native-access=ALL-UNNAMED -Dlibappose.bridge=jni -cp $jar:$out/classes LibApposeClient"
    "libappose FFM, JDK $v|$jdk_ffm/bin/java --enable-native-access=ALL-UNNAMED -Dlibappose.bridge=ffm -cp $jar:$out/classes LibApposeClient")
fi

# The median of ROUNDS runs of one figure.
measure() { # command mode n key
  local vals=()
  for _ in $(seq "$rounds"); do
    vals+=("$($1 "$env_dir" "$2" "$3" | python3 -c "import json,sys; print(json.load(sys.stdin)['$4'])")")
  done
  printf '%s\n' "${vals[@]}" | sort -g | sed -n "$(( (rounds + 1) / 2 ))p"
}

printf '%-28s %16s %12s %18s\n' client "round trip µs" "cpu µs/task" "events/s"
base_rt="" base_ev=""
results=()
for c in "${clients[@]}"; do
  name=${c%%|*} cmd=${c#*|}
  rt=$(measure "$cmd" roundtrip 2000 median_us)
  cpu=$(measure "$cmd" roundtrip 2000 cpu_us)
  ev=$(measure "$cmd" events 100000 events_per_s)
  [ -z "$base_rt" ] && base_rt=$rt base_ev=$ev
  printf '%-28s %16s %12s %18s\n' "$name" "$rt" "$cpu" "$ev"
  results+=("$name|$rt|$ev")
done
echo
echo "ratios to appose-java (round trip: lower is better; events: higher is better)"
for r in "${results[@]:1}"; do
  IFS='|' read -r name rt ev <<< "$r"
  python3 -c "print(f'{\"$name\":28s} round trip {$rt/$base_rt:.2f}x   events {$ev/$base_ev:.2f}x')"
done
