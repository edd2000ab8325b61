#!/usr/bin/env bash
# Quickstart: builds libappose, sets up a Python environment with the appose
# worker (once), compiles a small C program against the library and runs a
# numpy task in a Python worker, printing its events as they arrive.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

cargo build --release --quiet
env_dir="$root/target/tmp/python-env"
bash tests/support/python-env.sh "$env_dir"

out="$root/target/quickstart"
mkdir -p "$out"
ln -sf "$root/target/release/libappose.so" "$out/libappose.so"
ln -sf "$root/target/release/libappose.so" "$out/libappose.so.0"
"${CC:-cc}" -std=c11 -O2 -Wall -Wextra -Werror -I include tests/c/quickstart.c \
  -o "$out/quickstart" -L "$out" -Wl,-rpath,"$out" -lappose
"$out/quickstart" "$env_dir"
