#!/usr/bin/env bash
# Installs what fermi_jupyter needs on a fresh Debian machine with Python, Node and apt:
# Debian packages, a virtualenv with the package, and the node tools. Safe to run again:
# each step is skipped when its inputs have not changed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

# -- Debian packages -------------------------------------------------------------------------
# postgresql: the production database, started by the tests; rsync/b3sum: benchmark references;
# bubblewrap: the local sandbox; chromium: browser tests (never a downloaded browser).
need=()
command -v rsync >/dev/null || need+=(rsync)
command -v b3sum >/dev/null || need+=(b3sum)
command -v bwrap >/dev/null || need+=(bubblewrap)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
command -v chromium >/dev/null || need+=(chromium)
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
  # the JS build is done below with the workspace's own node_modules, not in pip's build env
  SKIP_JUPYTER_BUILDER=1 .venv/bin/pip install -q -e '.[test,postgres,kubernetes]' 2>&1 | { grep -v "^WARNING: Location" || true; }
  echo "$want" > "$stamp"
fi

# -- Node: one yarn workspace (jlpm, from jupyter-builder in .venv) -----------------------------
# the JupyterHub proxy (configurable-http-proxy) and the JupyterLab extension in labextension/
JLPM="$PWD/.venv/bin/jlpm"
export PATH="$PWD/.venv/bin:$PATH"  # the package scripts call jlpm and jupyter-builder
nstamp=node_modules/.fermi-installed
nwant=$(cat package.json labextension/package.json yarn.lock 2>/dev/null | sha256sum | cut -d' ' -f1)
if [ ! -f "$nstamp" ] || [ "$(cat "$nstamp")" != "$nwant" ]; then
  say "installing node packages"
  if [ -n "${CI:-}" ]; then "$JLPM" install --immutable >/dev/null; else "$JLPM" install >/dev/null; fi
  echo "$nwant" > "$nstamp"
fi

# -- The JupyterLab extension, built into fermi_jupyter/labextension and linked into .venv ----
bstamp=fermi_jupyter/labextension/.fermi-built
bwant=$(cat labextension/package.json labextension/tsconfig.json yarn.lock \
  $(find labextension/src labextension/style labextension/schema -type f | sort) | sha256sum | cut -d' ' -f1)
if [ ! -f "$bstamp" ] || [ "$(cat "$bstamp")" != "$bwant" ]; then
  say "building the JupyterLab extension"
  "$JLPM" build:prod >/dev/null
  echo "$bwant" > "$bstamp"
fi
# an editable install copies the (possibly empty) build output: replace it by a link to the build
link=.venv/share/jupyter/labextensions/fermi-jupyter
if [ ! -L "$link" ]; then
  rm -rf "$link"
  .venv/bin/jupyter labextension develop --overwrite . >/dev/null
fi

# -- UI tests (galata/Playwright on Debian's chromium; ui-tests/ has its own yarn.lock) -------
ustamp=ui-tests/node_modules/.fermi-installed
uwant=$(cat ui-tests/package.json ui-tests/yarn.lock 2>/dev/null | sha256sum | cut -d' ' -f1)
if [ -f ui-tests/package.json ] && { [ ! -f "$ustamp" ] || [ "$(cat "$ustamp")" != "$uwant" ]; }; then
  say "installing the UI-test packages"
  if [ -n "${CI:-}" ]; then (cd ui-tests && "$JLPM" install --immutable >/dev/null); else (cd ui-tests && "$JLPM" install >/dev/null); fi
  echo "$uwant" > "$ustamp"
fi
export PATH="$PWD/node_modules/.bin:$PWD/.venv/bin:$PATH"
