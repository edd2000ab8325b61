#!/usr/bin/env bash
# Writes a Maven toolchains file naming a JDK 22 or later (the FFM bridge's
# compiler and second test run) to the path given, and prints its version.
# The JDK is JDK_FFM_HOME when set, else the newest one found among the
# installed JDKs (/usr/lib/jvm/*, as Debian and the Temurin packages put them).
# Exits 1 (writing nothing) when there is none.
# Usage: toolchains.sh OUT.xml
set -euo pipefail
out=$1
best="" best_version=0
candidates=()
[ -n "${JDK_FFM_HOME:-}" ] && candidates+=("$JDK_FFM_HOME")
for d in /usr/lib/jvm/*; do candidates+=("$d"); done
for home in "${candidates[@]}"; do
  [ -x "$home/bin/javac" ] || continue
  v=$("$home/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = \([0-9]*\).*/\1/p')
  [ -n "$v" ] || continue
  if [ "$v" -ge 22 ] && [ "$v" -gt "$best_version" ]; then
    best=$home best_version=$v
    [ -n "${JDK_FFM_HOME:-}" ] && [ "$home" = "$JDK_FFM_HOME" ] && break
  fi
done
[ -n "$best" ] || exit 1
mkdir -p "$(dirname "$out")"
cat > "$out" <<XML
<?xml version="1.0" encoding="UTF-8"?>
<toolchains>
  <toolchain>
    <type>jdk</type>
    <provides>
      <version>$best_version</version>
    </provides>
    <configuration>
      <jdkHome>$best</jdkHome>
    </configuration>
  </toolchain>
</toolchains>
XML
echo "$best_version"
