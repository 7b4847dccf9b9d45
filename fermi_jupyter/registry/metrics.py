"""Prometheus metrics of the registry (served at /metrics)."""

from prometheus_client import Counter, Gauge, Histogram

REQUESTS = Histogram(
    "fermi_registry_request_duration_seconds",
    "REST request latency by handler, method and status code",
    ["handler", "method", "code"],
)
JOBS = Counter("fermi_registry_jobs_total", "Jobs finished by kind and outcome", ["kind", "state"])
JOB_SECONDS = Histogram(
    "fermi_registry_job_duration_seconds",
    "Job run time by kind",
    ["kind"],
    buckets=(0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600, float("inf")),
)
JOBS_RUNNING = Gauge("fermi_registry_jobs_running", "Jobs running in this registry process")
BYTES_STORED = Counter(
    "fermi_registry_new_bytes_total", "Bytes newly stored by snapshots (after de-duplication)"
)
EVENT_SUBSCRIBERS = Gauge("fermi_registry_event_subscribers", "Open event-stream connections")
