#!/usr/bin/env bash
# Peers for benchmarks (not needed by `make run` or `make test`): a venv with fastText's own
# predictor. Idempotent.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv-peers"
if ! "$VENV/bin/python" -c "import fasttext" 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check fasttext-predict==0.9.2.4
fi
