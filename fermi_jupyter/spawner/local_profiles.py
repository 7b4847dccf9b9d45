"""The same profile cards on one machine: CPU and memory limits enforced with cgroups, GPU
profiles disabled (with the reason) where the machine has no GPUs, and the container image
shown as what it is here — not used.
"""

from __future__ import annotations

import glob
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..i18n import Message, msg
from .cgroups import Hierarchy, Limits
from .form import template
from .profiles import _mem_bytes


@dataclass(frozen=True)
class LocalProfile:
    slug: str
    display_name: str
    description: str
    default: bool
    limits: Limits
    memory_text: str | None  # as the profile says it, e.g. 8G
    gpus: int
    image: str | None
    disabled: Message | None  # why it cannot start here

    def resources(self) -> list[str]:
        out = []
        if self.limits.cpu is not None:
            out.append(f"CPU {self.limits.cpu:g}")
        if self.limits.memory is not None:
            out.append(f"{self.memory_text} RAM")
        if self.gpus:
            out.append(f"GPU {self.gpus}")
        return out


def gpus_here(pattern: str = "/dev/nvidia[0-9]*") -> list[str]:
    """GPU device nodes on this machine (NVIDIA's), in order."""
    return sorted(glob.glob(pattern), key=lambda p: int(re.sub(r"\D", "", p) or 0))


def _gpu_count(override: Mapping[str, Any]) -> int:
    limits = override.get("extra_resource_limits") or {}
    return sum(int(v) for k, v in limits.items() if "gpu" in k.lower() and str(v).isdigit())


def local_profiles(profiles: Iterable[Mapping[str, Any]], gpus: int) -> list[LocalProfile]:
    out = []
    for p in profiles:
        override = p.get("kubespawner_override") or {}
        cpu = override.get("cpu_limit")
        mem = override.get("mem_limit")
        want = _gpu_count(override)
        disabled = None
        if want > gpus:
            disabled = (
                msg("needs {n} GPU; this machine has none", n=want)
                if gpus == 0
                else msg("needs {n} GPU; this machine has {have}", n=want, have=gpus)
            )
        out.append(
            LocalProfile(
                slug=p["slug"],
                display_name=str(p.get("display_name") or p["slug"]),
                description=str(p.get("description") or ""),
                default=bool(p.get("default")),
                limits=Limits(
                    float(cpu) if cpu is not None else None,
                    _mem_bytes(str(mem)) if mem is not None else None,
                ),
                memory_text=str(mem) if mem is not None else None,
                gpus=want,
                image=override.get("image"),
                disabled=disabled,
            )
        )
    return out


def chosen(profiles: list[LocalProfile], slug: Any) -> LocalProfile | None:
    """The profile a start uses: the one asked for, else the default (or first usable)."""
    if slug:
        return next((p for p in profiles if p.slug == slug), None)
    usable = [p for p in profiles if p.disabled is None]
    return next((p for p in usable if p.default), usable[0] if usable else None)


def render_profiles(
    profiles: list[LocalProfile],
    selected: str | None,
    *,
    hierarchy: Hierarchy | None,
    error: Any = None,
    template_paths: Iterable[str] = (),
) -> str:
    if not profiles:
        return ""
    pick = chosen(profiles, selected)
    if pick is not None and pick.disabled is not None:
        pick = chosen(profiles, None)
    return template("profiles.html", template_paths).render(
        profiles=profiles,
        selected=pick.slug if pick else None,
        unenforced=_unenforced(hierarchy, profiles),
        error=error,
    )


def _unenforced(hierarchy: Hierarchy | None, profiles: list[LocalProfile]) -> Message | None:
    wants = {
        r for p in profiles for r, v in (("cpu", p.limits.cpu), ("memory", p.limits.memory)) if v
    }
    missing = wants if hierarchy is None else wants & set(hierarchy.missing)
    if missing == {"cpu", "memory"}:
        return msg(
            "On this machine the CPU and memory limits of these profiles are not enforced: no "
            "writable cgroup hierarchy (v2 or v1) was found."
        )
    if missing == {"cpu"}:
        return msg("On this machine the CPU limits of these profiles are not enforced.")
    if missing == {"memory"}:
        return msg("On this machine the memory limits of these profiles are not enforced.")
    return None
