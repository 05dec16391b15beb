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
