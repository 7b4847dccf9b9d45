"""Version statuses and job states: the allowed transitions, as a table."""

from __future__ import annotations

import pytest

from fermi_jupyter.domain.states import (
    JOB_TRANSITIONS,
    VERSION_TRANSITIONS,
    InvalidTransition,
    JobState,
    VersionStatus,
    job_move,
    version_move,
)

V_ALLOWED = {
    ("pending", "processing"),
    ("pending", "failed"),
    ("pending", "cancelled"),
    ("processing", "pending"),
    ("processing", "ready"),
    ("processing", "failed"),
    ("processing", "cancelled"),
    ("ready", "drifted"),
    ("drifted", "ready"),
}
J_ALLOWED = {
    ("queued", "running"),
    ("queued", "cancelling"),
    ("queued", "cancelled"),
    ("queued", "failed"),
    ("running", "queued"),
    ("running", "done"),
    ("running", "failed"),
    ("running", "cancelling"),
    ("cancelling", "cancelled"),
    ("cancelling", "done"),
    ("cancelling", "failed"),
}


@pytest.mark.parametrize("a", list(VersionStatus))
@pytest.mark.parametrize("b", list(VersionStatus))
def test_version_transitions(a, b):
    if (a.value, b.value) in V_ALLOWED:
        assert version_move(a.value, b.value) is b
    else:
        with pytest.raises(InvalidTransition):
            version_move(a.value, b.value)


@pytest.mark.parametrize("a", list(JobState))
@pytest.mark.parametrize("b", list(JobState))
def test_job_transitions(a, b):
    if (a.value, b.value) in J_ALLOWED:
        assert job_move(a, b) is b
    else:
        with pytest.raises(InvalidTransition):
            job_move(a, b)


def test_every_state_is_in_the_tables():
    assert set(VERSION_TRANSITIONS) == set(VersionStatus)
    assert set(JOB_TRANSITIONS) == set(JobState)
    with pytest.raises(ValueError):
        version_move("pending", "bogus")
