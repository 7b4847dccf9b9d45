"""Runs the UI tests: a real hub + registry + Jupyter server (tests/support/labenv.py), then
galata/Playwright in Debian's Chromium against it. Arguments go to `playwright test`.

    .venv/bin/python ui-tests/run.py                 # all UI tests
    .venv/bin/python ui-tests/run.py -g wizard       # some of them
    .venv/bin/python ui-tests/run.py --serve         # just start it, print the URL, wait
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))


from tests.support.labenv import LabEnv  # noqa: E402


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str]) -> int:
    # started in the background, SIGINT may be ignored: stop (and clean up) on INT or TERM
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    serve = "--serve" in argv
    argv = [a for a in argv if a != "--serve"]
    state = HERE / ".state.json"
    with LabEnv(newcomer=True) as env:
        env.write_state(state)
        if serve:
            print(f"JupyterLab: {env.url}/lab   state: {state}   (Ctrl-C stops)", flush=True)
            with contextlib.suppress(KeyboardInterrupt):
                env.lab.wait()
            return 0
        run_env = {
            **os.environ,
            "FERMI_UI_STATE": str(state),
            "FERMI_UI_URL": env.url,
            "PATH": f"{REPO / '.venv' / 'bin'}:{os.environ['PATH']}",
        }
        jlpm = REPO / ".venv" / "bin" / "jlpm"
        try:
            return subprocess.call([str(jlpm), "playwright", "test", *argv], cwd=HERE, env=run_env)
        except KeyboardInterrupt:
            return 130


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
