#!/usr/bin/env bash
# Sets up everything (see setup.sh) and runs fermi_jupyter on this machine: a local JupyterHub
# with the registry as a hub-managed service, SQLite, servers in bubblewrap sandboxes as the
# unprivileged user fermi-server. The hub keeps its state in $FERMI_HOME — by default
# /var/lib/fermi-jupyter as root, ~/.local/state/fermi-jupyter otherwise; never in the checkout.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
port=${FERMI_HUB_PORT:-8000}
say "starting JupyterHub on http://127.0.0.1:${port}/"
cat <<MSG
    the demo passwords are printed below (any user name; "admin" has its own)
    registry API: http://127.0.0.1:${port}/services/fermi-registry/api/v1/
    stop with Ctrl-C
MSG
exec .venv/bin/jupyterhub -f hub_config/local/jupyterhub_config.py
