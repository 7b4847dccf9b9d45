"""Progress bars for long work: tqdm (a widget in notebooks, a bar on stderr in terminals)."""

from __future__ import annotations

from typing import Any

BAR_FORMAT = "{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} [{elapsed}{postfix}]"


class Bar:
    """Feeds a version's or job's progress (files and bytes done of totals) into tqdm."""

    def __init__(self, label: str, notebook: bool = False, disable: bool = False):
        self.label = label
        self.notebook = notebook
        self.disable = disable
        self._bar: Any = None

    def __call__(self, item: Any) -> None:
        p = item.progress
        total = p.bytes_total
        if self._bar is None and total:
            if self.notebook:
                from tqdm.auto import tqdm
            else:
                from tqdm import tqdm
            self._bar = tqdm(
                total=total,
                unit="B",
                unit_scale=True,
                unit_divisor=1024,
                desc=self.label,
                disable=self.disable,
                leave=True,
                # no rate: the bar follows the registry's work by polling, not a local stream
                bar_format=BAR_FORMAT,
            )
        if self._bar is not None:
            self._bar.n = min(p.bytes_done, total or p.bytes_done)
            self._bar.set_postfix_str(
                f"{p.files_done:,}/{p.files_total or 0:,} files", refresh=False
            )
            self._bar.refresh()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
