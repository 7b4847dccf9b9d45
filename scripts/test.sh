#!/usr/bin/env bash
# Sets up everything (see setup.sh), checks style, then runs the whole test suite:
# unit tests, the registry against real JupyterHub processes on SQLite and PostgreSQL, the
# JupyterLab extension's checks and unit tests, and its UI tests in Chromium.
# Extra arguments go to pytest, e.g. scripts/test.sh -k authz
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
say "ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
say "labextension: prettier, eslint, strict tsc, jest, size budget"
jlpm lint:check
jlpm test
(cd labextension && node scripts/check-size.js)
say "UI tests: the Data sidebar in Chromium (galata; a real hub, registry and Jupyter server)"
.venv/bin/python ui-tests/run.py
say "pytest"
.venv/bin/python -m pytest "$@"
