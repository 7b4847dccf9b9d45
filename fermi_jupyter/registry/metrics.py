"""Prometheus metrics of the registry (served at /metrics).

Run as ``python -m fermi_jupyter.registry``, every process of the registry writes its samples
to one folder (see metrics_dir.py) and a scrape adds them up, so the job process's counters
and every serving process's requests are counted whichever process answers."""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

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
JOBS_RUNNING = Gauge(
    "fermi_registry_jobs_running",
    "Jobs running in this registry (all its processes)",
    multiprocess_mode="livesum",
)
BYTES_STORED = Counter(
    "fermi_registry_new_bytes_total", "Bytes newly stored by snapshots (after de-duplication)"
)
EVENT_SUBSCRIBERS = Gauge(
    "fermi_registry_event_subscribers", "Open event-stream connections", multiprocess_mode="livesum"
)
CONTENT_TYPE = CONTENT_TYPE_LATEST


def exposition() -> bytes:
    """The metrics in Prometheus' text format: every process's, when they share a folder."""
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return generate_latest()
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return generate_latest(registry)


def process_gone(pid: int) -> None:
    """A process of the registry has ended: its running jobs and open streams no longer count
    (its counters and histograms do)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(pid)
