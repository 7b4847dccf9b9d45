"""KubeSpawner starts its pod and event reflectors together and, when one fails, cancels the
other while its first list of the cluster is still in flight. The cancelled reflector stayed
registered with a first load that never came, so every later start and stop of every server
waited for it: after one failed start against an unreachable API (seen twice in CI), the
server stayed "pending" until the hub restarted. FermiSpawner forgets such a reflector.

Real KubeSpawner code against the tests' kubeconfig (a closed loopback port, conftest.py)."""

from __future__ import annotations

import asyncio

import pytest

from fermi_jupyter.spawner.kube import FermiSpawner

from .test_pod_manifest import DOWN, _User


async def test_a_reflector_cancelled_before_its_first_load_does_not_hold_up_later_starts():
    spawner = FermiSpawner(_mock=True, user=_User("alice", []), hub_registry_url=DOWN)
    key = spawner._get_reflector_key("pods")
    reflectors = type(spawner).reflectors
    reflectors.pop(key, None)
    try:
        first = asyncio.ensure_future(spawner._start_watching_pods())
        while key not in reflectors:  # registered, its first list under way: cancel it now
            await asyncio.sleep(0)
        cancelled = reflectors[key]
        assert not cancelled.first_load_future.done()
        first.cancel()
        with pytest.raises(asyncio.CancelledError):
            await first
        # the next start (or stop) makes a new reflector, which fails as the API is down,
        # instead of waiting for the cancelled one's first load
        with pytest.raises(Exception) as failed:
            await asyncio.wait_for(spawner._start_watching_pods(), timeout=20)
        assert not isinstance(failed.value, TimeoutError), "waited for the cancelled reflector"
        assert "127.0.0.1:9" in str(failed.value) or "Cannot connect" in str(failed.value)
        assert reflectors.get(key) is not cancelled
    finally:
        reflector = reflectors.pop(key, None)
        if reflector is not None:
            await reflector.stop()


async def test_a_caller_cancelled_while_waiting_leaves_the_loading_reflector_alone():
    """Only the call that made a reflector forgets it: another caller, waiting for that first
    load and cancelled meanwhile (a start that timed out), leaves it loading."""
    spawner = FermiSpawner(_mock=True, user=_User("alice", []), hub_registry_url=DOWN)
    key = spawner._get_reflector_key("pods")
    reflectors = type(spawner).reflectors
    reflectors.pop(key, None)
    maker = asyncio.ensure_future(spawner._start_watching_pods())
    try:
        while key not in reflectors:
            await asyncio.sleep(0)
        loading = reflectors[key]
        waiter = asyncio.ensure_future(spawner._start_watching_pods())
        await asyncio.sleep(0)  # waiting for the first load, made by the other call
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
        assert reflectors.get(key) is loading  # still the one being loaded
        # (KubeSpawner's waiter awaits the future itself, so its cancel may cancel the future:
        # the reflector is then taken as loaded; what must not happen is our failing it)
        loaded = loading.first_load_future
        if loaded.done() and not loaded.cancelled():
            assert "was cancelled" not in str(loaded.exception())
    finally:
        maker.cancel()
        await asyncio.gather(maker, return_exceptions=True)
        reflector = reflectors.pop(key, None)
        if reflector is not None:
            await reflector.stop()
