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
# wrk: load generator for `python -m bench serve`.
# git: the Git transfer engine; rclone: the S3 transfer benchmark's reference.
need=()
command -v rsync >/dev/null || need+=(rsync)
command -v b3sum >/dev/null || need+=(b3sum)
command -v bwrap >/dev/null || need+=(bubblewrap)
/usr/bin/python3 -c 'import ensurepip, venv' 2>/dev/null || need+=(python3-venv)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
command -v chromium >/dev/null || need+=(chromium)
command -v wrk >/dev/null || need+=(wrk)  # the serving benchmark's load generator
# a Chinese font, so the browser tests' screenshots of the zh_CN form are readable
[ -e /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc ] || need+=(fonts-wqy-zenhei)
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
  # the JS build is done below with the workspace's own node_modules, not in pip's build env
  SKIP_JUPYTER_BUILDER=1 .venv/bin/pip install -q -e '.[test,postgres,kubernetes,transfers]' 2>&1 | { grep -v "^WARNING: Location" || true; }
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
# (develop leaves a copy of install.json in the build; the wheel adds the root one itself)
rm -f fermi_jupyter/labextension/install.json

# -- the servers' runtime and user (the local sandbox) -----------------------------------------
# Local servers run as the unprivileged user fermi-server, never as root, with a Python that user
# can read: Debian's python3 in a venv with this package (a pyenv Python under /root is not
# readable by other users). The checkout is installed editable when fermi-server can read it,
# copied into a venv under /opt otherwise (e.g. a clone under /root). The local hub config finds
# the runtime through .work/server-python. The registry's transfers run with it too (as the
# volume's owner, never as root), hence the transfers extra.
if [ "$(id -u)" -eq 0 ]; then
  if ! id fermi-server >/dev/null 2>&1; then
    say "creating the system user fermi-server (local servers run as it)"
    useradd --system --user-group --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin fermi-server
  fi
  readable() { runuser -u fermi-server -- test -r "$1"; }
else
  readable() { test -r "$1"; }
fi
mkdir -p .work
if readable "$PWD/pyproject.toml"; then
  rt=$PWD/.work/server-venv; rwant="editable+transfers $want"; rspec=(-e '.[transfers]')
else
  rt=/opt/fermi-jupyter/server-venv-$(printf %s "$PWD" | sha256sum | cut -c1-12)
  rwant="copy+transfers $want $bwant $(git ls-files -z fermi_jupyter | xargs -0 cat | sha256sum | cut -c1-16)"
  rspec=(--force-reinstall --no-deps .)
fi
if [ ! -x "$rt/bin/python" ]; then
  say "creating the servers' runtime $rt (Debian's python3)"
  mkdir -p "$(dirname "$rt")"
  /usr/bin/python3 -m venv "$rt"
  "$rt/bin/pip" install -q -U pip 2>&1 | { grep -v "^WARNING: Location" || true; }
fi
if [ ! -f "$rt/.fermi-installed" ] || [ "$(cat "$rt/.fermi-installed")" != "$rwant" ]; then
  say "installing fermi_jupyter into the servers' runtime"
  [ "${rspec[0]}" = "-e" ] || SKIP_JUPYTER_BUILDER=1 "$rt/bin/pip" install -q '.[transfers]' 2>&1 | { grep -v "^WARNING: Location" || true; }
  SKIP_JUPYTER_BUILDER=1 "$rt/bin/pip" install -q "${rspec[@]}" 2>&1 | { grep -v "^WARNING: Location" || true; }
  echo "$rwant" > "$rt/.fermi-installed"
fi
# the Data sidebar in the servers' Lab: a link to the build (an editable install copies nothing)
if [ "${rspec[0]}" = "-e" ]; then
  rlink=$rt/share/jupyter/labextensions/fermi-jupyter
  if [ "$(readlink "$rlink" 2>/dev/null)" != "$PWD/fermi_jupyter/labextension" ]; then
    mkdir -p "$(dirname "$rlink")"; rm -rf "$rlink"; ln -s "$PWD/fermi_jupyter/labextension" "$rlink"
  fi
fi
echo "$rt/bin/python" > .work/server-python

# -- UI tests (galata/Playwright on Debian's chromium; ui-tests/ has its own yarn.lock) -------
ustamp=ui-tests/node_modules/.fermi-installed
uwant=$(cat ui-tests/package.json ui-tests/yarn.lock 2>/dev/null | sha256sum | cut -d' ' -f1)
if [ -f ui-tests/package.json ] && { [ ! -f "$ustamp" ] || [ "$(cat "$ustamp")" != "$uwant" ]; }; then
  say "installing the UI-test packages"
  if [ -n "${CI:-}" ]; then (cd ui-tests && "$JLPM" install --immutable >/dev/null); else (cd ui-tests && "$JLPM" install >/dev/null); fi
  echo "$uwant" > "$ustamp"
fi
export PATH="$PWD/node_modules/.bin:$PWD/.venv/bin:$PATH"
