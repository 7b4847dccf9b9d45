"""URL routes of the registry, one module per resource."""

from __future__ import annotations

from jupyterhub.services.auth import HubOAuthCallbackHandler

from .cancel import CancelHandler
from .datasets import AliasHandler, DatasetHandler, DatasetsHandler
from .events import EventsHandler
from .jobs import AuditHandler, JobHandler, JobsHandler, MountsHandler, ServerMountsHandler
from .lineage import DiffHandler, LineageHandler
from .meta import HealthHandler, MetricsHandler, OpenAPIHandler, RootHandler
from .transfers import (
    CredentialHandler,
    CredentialsHandler,
    TransferHandler,
    TransferLogHandler,
    TransfersHandler,
)
from .versions import (
    ManifestHandler,
    RestoreHandler,
    VerifyHandler,
    VersionHandler,
    VersionsHandler,
)
from .volumes import VolumeHandler, VolumesHandler, VolumeTreeHandler

DS = r"(?P<ref>[^/]+)"  # an id, a name, or owner%2Fname
V = r"(?P<selector>[A-Za-z0-9_.\-]+)"


def routes(prefix: str) -> list[tuple]:
    """``prefix`` is the service prefix (``/services/fermi-registry/``) or ``/``."""
    api = prefix + "api/v1"
    return [
        (api + r"/volumes", VolumesHandler),
        (api + r"/volumes/(?P<vol_id>[^/]+)", VolumeHandler),
        (api + r"/volumes/(?P<vol_id>[^/]+)/tree", VolumeTreeHandler),
        (api + r"/datasets", DatasetsHandler),
        (api + rf"/datasets/{DS}", DatasetHandler),
        (api + rf"/datasets/{DS}/aliases/(?P<name>[^/]+)", AliasHandler),
        (api + rf"/datasets/{DS}/versions", VersionsHandler),
        (api + rf"/datasets/{DS}/versions/{V}", VersionHandler),
        (api + rf"/datasets/{DS}/versions/{V}/manifest", ManifestHandler),
        (api + rf"/datasets/{DS}/versions/{V}/verify", VerifyHandler),
        (api + rf"/datasets/{DS}/versions/{V}/restore", RestoreHandler),
        (api + rf"/datasets/{DS}/versions/{V}/diff", DiffHandler),
        (api + rf"/datasets/{DS}/versions/{V}/lineage", LineageHandler),
        (api + rf"/datasets/{DS}/versions/{V}/cancel", CancelHandler),
        (api + r"/jobs", JobsHandler),
        (api + r"/jobs/(?P<job_id>[^/]+)", JobHandler),
        (api + r"/mounts", MountsHandler),
        (api + r"/mounts/(?P<server>.+)", ServerMountsHandler),
        (api + r"/audit", AuditHandler),
        (api + r"/transfers", TransfersHandler),
        (api + r"/transfers/(?P<transfer_id>[^/]+)", TransferHandler),
        (api + r"/transfers/(?P<transfer_id>[^/]+)/log", TransferLogHandler),
        (api + r"/credentials", CredentialsHandler),
        (api + r"/credentials/(?P<name>[^/]+)", CredentialHandler),
        (api + r"/events", EventsHandler),
        (api + r"/openapi.json", OpenAPIHandler),
        (api + r"/health", HealthHandler),
        (prefix, RootHandler),
        (prefix + r"metrics", MetricsHandler),
        (prefix + r"oauth_callback", HubOAuthCallbackHandler),
    ]
