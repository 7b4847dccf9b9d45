"""The OpenAPI document kept in the repository matches the routes the registry serves."""

import json
import re

from fermi_jupyter.registry.handlers import routes
from fermi_jupyter.registry.handlers.meta import OPENAPI

HTTP_VERBS = {"get", "post", "put", "patch", "delete"}


def _template(pattern: str) -> str:
    return re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", pattern)


def test_every_api_route_and_verb_is_documented():
    doc = json.loads(OPENAPI.read_text())
    served = {}
    for pattern, handler in routes("/"):
        if not pattern.startswith("/api/v1"):
            continue
        verbs = {
            v
            for v in HTTP_VERBS
            if v in handler.__dict__
            or any(
                v in base.__dict__
                for base in handler.__mro__[1:-1]
                if base.__module__.startswith("fermi_jupyter")
            )
        }
        served[_template(pattern)[len("/api/v1") :]] = verbs
    assert set(served) == set(doc["paths"])
    for path, verbs in served.items():
        documented = set(doc["paths"][path]) & HTTP_VERBS
        assert verbs == documented, path
