"""Writes fermi_jupyter/locale/zh_CN/LC_MESSAGES/fermi_jupyter.json from a {English: 中文} dict,
merged into what is there: Jed format, keys sorted, one entry per line (merges stay easy)."""

import json
import sys
from pathlib import Path

CATALOG = (
    Path(__file__).resolve().parents[2]
    / "fermi_jupyter/locale/zh_CN/LC_MESSAGES/fermi_jupyter.json"
)
HEADER = {
    "domain": "fermi_jupyter",
    "language": "zh-CN",
    "plural_forms": "nplurals=1; plural=0;",
    "version": "0.1.0",
}


def write(entries: dict[str, str]) -> None:
    old = json.loads(CATALOG.read_text()) if CATALOG.exists() else {}
    merged = {k: v for k, v in old.items() if k}
    merged.update({k: [v] for k, v in entries.items()})
    header = json.dumps(old.get("", HEADER), ensure_ascii=False)
    lines = [f'"": {header}']
    lines += [
        f"{json.dumps(k, ensure_ascii=False)}: {json.dumps(merged[k], ensure_ascii=False)}"
        for k in sorted(merged)
    ]
    CATALOG.parent.mkdir(parents=True, exist_ok=True)
    CATALOG.write_text("{\n" + ",\n".join(lines) + "\n}\n", encoding="utf-8")


if __name__ == "__main__":
    write(json.loads(Path(sys.argv[1]).read_text()))
