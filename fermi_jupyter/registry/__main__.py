import sys

# The registry never checks JSON Schema "format" keywords, but jsonschema imports
# rfc3987_syntax's grammar whenever it is installed (schemathesis brings it): about a second
# and 28 MB in every serving process. Blocked before anything imports jsonschema.
sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]

# before prometheus_client is imported: every process of this registry counts into one folder
from .metrics_dir import prepare  # noqa: E402

prepare()

from .app import main  # noqa: E402

if __name__ == "__main__":  # guarded: hashing worker processes import this module too
    main()
