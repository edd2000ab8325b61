#!/usr/bin/env bash
# The whole test suite. Sets up what the tests need (the Python test
# environment is made by the tests themselves) and runs them.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

# The C tests link the shared library, which `cargo test` does not build.
cargo build
cargo test
