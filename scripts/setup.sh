#!/usr/bin/env bash
# Installs what fermi_jupyter needs on a fresh Debian machine with Python, Node and apt:
# Debian packages, a virtualenv with the package, and the node tools. Safe to run again:
# each step is skipped when its inputs have not changed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

# -- Debian packages -------------------------------------------------------------------------
# postgresql: the production database, started by the tests; rsync/b3sum: benchmark references;
# bubblewrap: the local sandbox; chromium: browser tests (never a downloaded browser);
# git: the Git transfer engine; rclone: the S3 transfer benchmark's reference.
need=()
command -v rsync >/dev/null || need+=(rsync)
command -v b3sum >/dev/null || need+=(b3sum)
command -v bwrap >/dev/null || need+=(bubblewrap)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
command -v chromium >/dev/null || need+=(chromium)
command -v git >/dev/null || need+=(git)
command -v rclone >/dev/null || need+=(rclone)
if [ ${#need[@]} -gt 0 ]; then
  say "installing Debian packages: ${need[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# -- Python ----------------------------------------------------------------------------------
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  say "creating .venv"
  "$PY" -m venv .venv
  .venv/bin/pip install -q -U pip 2>&1 | { grep -v "^WARNING: Location" || true; }
fi
stamp=.venv/.fermi-installed
want=$(cat pyproject.toml | sha256sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  say "installing fermi_jupyter and its test tools into .venv"
  # (pip warns about local wheel folders this machine's pip config names: noise, filtered)
  .venv/bin/pip install -q -e '.[test,postgres,kubernetes,transfers]' 2>&1 | { grep -v "^WARNING: Location" || true; }
  echo "$want" > "$stamp"
fi

# -- Node (the JupyterHub proxy) ---------------------------------------------------------------
nstamp=node_modules/.fermi-installed
nwant=$(cat package.json package-lock.json 2>/dev/null | sha256sum | cut -d' ' -f1)
if [ ! -f "$nstamp" ] || [ "$(cat "$nstamp")" != "$nwant" ]; then
  say "installing node packages"
  npm ci --no-audit --no-fund --loglevel=error 2>/dev/null || npm install --no-audit --no-fund --loglevel=error
  echo "$nwant" > "$nstamp"
fi
export PATH="$PWD/node_modules/.bin:$PWD/.venv/bin:$PATH"
