#!/usr/bin/env bash
# Creates, or reuses when its requirements are unchanged, the Python
# environment that the tests and the quickstart run workers in: a venv with
# the pinned appose worker package and numpy from the package index.
# Usage: python-env.sh DIR
set -euo pipefail
dir=${1:?usage: python-env.sh DIR}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
req="$here/requirements.txt"
mkdir -p "$(dirname "$dir")"
# Test binaries run in parallel: one of them builds, the others wait.
exec 9>"$dir.lock"
flock 9
if [ -x "$dir/bin/python" ] && cmp -s "$req" "$dir/.requirements.txt"; then
  exit 0
fi
echo "Setting up the Python test environment in $dir ..." >&2
rm -rf "$dir"
python3 -m venv "$dir"
"$dir/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req" >&2
cp "$req" "$dir/.requirements.txt"
