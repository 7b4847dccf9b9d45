#!/usr/bin/env bash
# Sets up everything (see setup.sh) and runs fermi_jupyter on this machine: a local JupyterHub
# with the registry as a hub-managed service, SQLite, and a storage root under .work/local.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
export FERMI_HOME=${FERMI_HOME:-$PWD/.work/local}
mkdir -p "$FERMI_HOME"
port=${FERMI_HUB_PORT:-8000}
say "starting JupyterHub on http://127.0.0.1:${port}/"
cat <<MSG
    log in as admin, alice, bob or carol with password '${FERMI_DEMO_PASSWORD:-fermi}'
    registry API: http://127.0.0.1:${port}/services/fermi-registry/api/v1/
    data lives in ${FERMI_HOME}; stop with Ctrl-C
MSG
exec .venv/bin/jupyterhub -f hub_config/local/jupyterhub_config.py
