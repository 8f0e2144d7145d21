# Shared by scripts/serve and scripts/test: find Python >= 3.12, create .venv, install the locked dependencies.
# Sourced, not run. Re-running is cheap: the install is skipped while requirements.lock is unchanged.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

find_python() {
  local candidate
  for candidate in "${PYTHON:-}" python3.13 python3.12 python3 python; do
    [ -n "$candidate" ] || continue
    command -v "$candidate" >/dev/null 2>&1 || continue
    if "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null; then
      echo "$candidate"; return 0
    fi
  done
  # pyenv keeps interpreters that are not on PATH.
  if command -v pyenv >/dev/null 2>&1; then
    for version in $(pyenv versions --bare 2>/dev/null | grep -E '^3\.(1[2-9])' | sort -rV); do
      candidate="$(pyenv root)/versions/$version/bin/python3"
      [ -x "$candidate" ] && { echo "$candidate"; return 0; }
    done
  fi
  return 1
}

if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null; then
  PY="$(find_python)" || {
    echo "twincity needs Python 3.12 or newer. Install it (e.g. 'apt-get install python3.12 python3.12-venv'," >&2
    echo "or 'pyenv install 3.12'), or point PYTHON at it: PYTHON=/path/to/python3.12 $0" >&2
    exit 1
  }
  echo "Creating .venv with $("$PY" --version) ($PY)"
  rm -rf .venv
  "$PY" -m venv .venv
fi

STAMP=.venv/.installed-lock
if [ ! -f "$STAMP" ] || ! cmp -s requirements.lock "$STAMP"; then
  echo "Installing dependencies from requirements.lock"
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -r requirements.lock
  .venv/bin/python -m pip install --quiet --no-deps -e .
  cp requirements.lock "$STAMP"
fi
export PATH="$ROOT/.venv/bin:$PATH"
