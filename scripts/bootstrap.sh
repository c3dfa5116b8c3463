#!/usr/bin/env bash
# Prepares a fresh clone: uv (from PyPI if absent), a Python 3.13 interpreter (found locally,
# e.g. under pyenv, or fetched by uv where it can download) and the locked environment in .venv.
# Idempotent and quiet when everything is already in place; prints one line per step otherwise.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${HARVEST_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/harvest-exchange}"
UV_VERSION="0.13.9"
say() { printf '[bootstrap] %s\n' "$*" >&2; }

find_uv() {
  if command -v uv >/dev/null 2>&1; then command -v uv; return; fi
  local local_uv="$CACHE/uv-$UV_VERSION/bin/uv"
  if [[ ! -x "$local_uv" ]]; then
    say "installing uv $UV_VERSION from PyPI into $CACHE"
    local pip_python
    pip_python="$(command -v python3 || command -v python)"
    "$pip_python" -m pip install --quiet --disable-pip-version-check \
      --target "$CACHE/uv-$UV_VERSION" "uv==$UV_VERSION" >&2
  fi
  echo "$local_uv"
}

find_python() {
  # 1. an explicit choice wins
  if [[ -n "${UV_PYTHON:-}" ]]; then echo "$UV_PYTHON"; return; fi
  # 2. an interpreter uv already knows (PATH, uv-managed), without downloading
  local found
  if found="$(UV_PYTHON_DOWNLOADS=never "$UV" python find '>=3.13,<3.14' 2>/dev/null)"; then
    echo "$found"; return
  fi
  # 3. pyenv installs that are not the active version are invisible to uv: look for them
  if command -v pyenv >/dev/null 2>&1; then
    local root candidate
    root="$(pyenv root)"
    for candidate in $(ls -d "$root"/versions/3.13*/bin/python3.13 2>/dev/null | sort -V -r); do
      if "$candidate" -c 'import sys; assert sys.version_info[:2] == (3, 13)' 2>/dev/null; then
        echo "$candidate"; return
      fi
    done
  fi
  # 4. let uv fetch one where the network allows it
  say "no local Python 3.13 found; asking uv to install one"
  "$UV" python install 3.13 >&2
  "$UV" python find '>=3.13,<3.14'
}

UV="$(find_uv)"
PYTHON="$(find_python)"
export UV_PYTHON="$PYTHON"
if [[ ! -x "$ROOT/.venv/bin/python" ]] || ! "$ROOT/.venv/bin/python" -c 'import harvest' 2>/dev/null \
   || [[ "$ROOT/uv.lock" -nt "$ROOT/.venv/.synced" ]]; then
  say "syncing .venv with uv.lock (python: $PYTHON)"
fi
# The cli extra: the `harvest` command and the local runtime (make serve, make test).
(cd "$ROOT" && "$UV" sync --frozen --extra cli --python "$PYTHON" --quiet)
touch "$ROOT/.venv/.synced"
echo "$UV"
