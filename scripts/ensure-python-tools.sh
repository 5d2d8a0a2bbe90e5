#!/usr/bin/env bash
# Prints the path of a Python virtual environment holding the tests' Python tools (the deployment
# tests' validators PyYAML, jsonschema, kubernetes-validate; opentelemetry-proto and protobuf for
# the traces test's OTLP receiver), installed once from PyPI into target/ with the
# versions and hashes of scripts/python-tools/requirements.txt. A changed requirements file
# makes a new environment.
set -euo pipefail
cd "$(dirname "$0")/.."

requirements=scripts/python-tools/requirements.txt
stamp="$(sha256sum "$requirements" | cut -c1-16)"
dir="$PWD/target/python-tools-$stamp"

if [ ! -x "$dir/bin/python" ] || [ ! -f "$dir/.complete" ]; then
  rm -rf "$dir"
  python3 -m venv "$dir" >&2
  "$dir/bin/pip" install --quiet --disable-pip-version-check --require-hashes --only-binary=:all: \
    -r "$requirements" >&2
  touch "$dir/.complete"
fi
echo "$dir"
