#!/usr/bin/env bash
# Fetches appose-java 0.9.0 (its GroovyWorker, Groovy 4 and groovy-json) into
# DEST with Maven, once: the second peer's worker for the Groovy tests.
# Usage: groovy-deps.sh DEST
set -euo pipefail
dest=$(realpath -m "$1")
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
mkdir -p "$dest"
exec 9> "$dest.lock"
flock 9
if ! ls "$dest"/appose-0.9.0.jar > /dev/null 2>&1; then
  mvn -q -f "$root/tests/bench/java/pom.xml" dependency:copy-dependencies -DoutputDirectory="$dest"
fi
