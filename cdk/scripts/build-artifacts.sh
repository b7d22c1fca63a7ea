#!/usr/bin/env bash
# Builds the four Lambda zips the stack deploys, target/lambda/<function>/bootstrap.zip, for
# provided.al2023 on x86_64 (glibc 2.34). Needs cargo-lambda: `pip install cargo-lambda`.
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! cargo lambda --version >/dev/null 2>&1; then
  echo "error: cargo-lambda is not installed; install it with 'pip install cargo-lambda' (it brings zig)" >&2
  exit 2
fi
cargo lambda build --release --locked --target x86_64-unknown-linux-gnu.2.34 --output-format zip \
  -p trigger -p parse -p diagnose -p aggregate
ls -l target/lambda/*/bootstrap.zip
