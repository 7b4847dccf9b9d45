from ..cli.conftest import server  # noqa: F401  (the same user-server set-up)
