"""The "Storage mounts" section of the spawn form: rendering and parsing.

Plain HTML with a little JavaScript: dataset search goes through the hub's own endpoint
(``{hub}/fermi/datasets?q=``), so the page never carries a 10,000-option list. Strings carry
a zh_CN translation applied when the browser prefers Chinese.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

ZH = {
    "Storage mounts": "存储挂载",
    "Mount dataset": "挂载数据集",
    "Mount volume": "挂载存储卷",
    "Dataset": "数据集",
    "Version": "版本",
    "Mount path": "挂载路径",
    "read-only": "只读",
    "read-write": "读写",
    "Volume": "存储卷",
    "Access": "权限",
    "or create a new volume": "或新建存储卷",
    "Name": "名称",
    "Size": "容量",
    "Type": "类型",
    "remove": "移除",
    "Search datasets you can see…": "搜索可见的数据集…",
    "latest ready": "最新就绪版本",
}
TYPES = {
    "ssd": "SSD — training data, many small files",
    "hdd": "HDD — large archives",
    "shared": "Shared — a team works on it together",
}


@dataclass
class DatasetChoice:
    ref: str
    version: str = "latest"
    path: str = ""


@dataclass
class VolumeChoice:
    volume_id: str
    path: str = ""
    read_only: bool = False


@dataclass
class NewVolume:
    name: str
    size: str
    type: str
    path: str = ""


@dataclass
class StorageChoices:
    datasets: list[DatasetChoice] = field(default_factory=list)
    volumes: list[VolumeChoice] = field(default_factory=list)
    new_volume: NewVolume | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "datasets": [vars(d) for d in self.datasets],
            "volumes": [vars(v) for v in self.volumes],
        }


def _list(form: dict[str, list[str]], key: str) -> list[str]:
    return [v.strip() for v in form.get(key, [])]


def parse(form: dict[str, list[str]]) -> StorageChoices:
    """Form fields → choices; rows left empty are ignored, nothing else is trusted here."""
    out = StorageChoices()
    refs, versions, paths = (
        _list(form, k) for k in ("dataset_ref", "dataset_version", "dataset_path")
    )
    for i, ref in enumerate(refs):
        if ref:
            version = versions[i] if i < len(versions) and versions[i] else "latest"
            out.datasets.append(DatasetChoice(ref, version, paths[i] if i < len(paths) else ""))
    ids, vpaths, modes = (_list(form, k) for k in ("volume_id", "volume_path", "volume_mode"))
    for i, vid in enumerate(ids):
        if vid:
            ro = i < len(modes) and modes[i] == "ro"
            out.volumes.append(VolumeChoice(vid, vpaths[i] if i < len(vpaths) else "", ro))
    name = (_list(form, "new_volume_name") or [""])[0]
    if name:
        out.new_volume = NewVolume(
            name,
            (_list(form, "new_volume_size") or ["100Gi"])[0] or "100Gi",
            (_list(form, "new_volume_type") or ["ssd"])[0] or "ssd",
            (_list(form, "new_volume_path") or [""])[0],
        )
    return out


LOCK = (
    '<svg width="11" height="12" viewBox="0 0 11 12" aria-hidden="true">'
    '<rect x="1" y="5" width="9" height="7" rx="1" fill="currentColor"/>'
    '<path d="M3 5V3.5a2.5 2.5 0 0 1 5 0V5" stroke="currentColor" fill="none" stroke-width="1.5"/>'
    "</svg>"
)


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _t(text: str) -> str:
    return f'<span data-i18n="{_e(text)}">{_e(text)}</span>'


def _err(errors: dict[str, str], key: str) -> str:
    msg = errors.get(key)
    return f'<div class="fermi-error text-danger" role="alert">{_e(msg)}</div>' if msg else ""


def _gib(n: int | None) -> str:
    return "—" if n is None else f"{n / 2**30:,.1f} GiB"


def render(
    *,
    search_url: str,
    volumes: list[dict] | None,
    prefill: StorageChoices,
    errors: dict[str, str],
    notices: list[str],
) -> str:
    """``volumes`` None means the registry is down: the section says so and stays usable."""
    parts = [
        STYLE,
        '<fieldset class="fermi-storage" id="fermi-storage">',
        f"<legend>{_t('Storage mounts')}</legend>",
    ]
    parts += [f'<div class="alert alert-warning fermi-notice">{_e(n)}</div>' for n in notices]
    parts.append(_err(errors, "mounts"))
    if volumes is None:
        parts.append(
            '<div class="alert alert-warning" id="fermi-registry-down">The dataset '
            "registry is not reachable right now: you can start without storage "
            "mounts and add them next time.</div></fieldset>"
        )
        return "".join(parts)
    rows = prefill.datasets or [DatasetChoice("")]
    parts.append(
        f"<h4>{_t('Mount dataset')} <span class='fermi-lock' title='read-only'>{LOCK} "
        f"{_t('read-only')}</span></h4><div id='fermi-datasets'>"
    )
    for i, d in enumerate(rows):
        parts.append(
            f'<div class="fermi-row fermi-dataset-row">'
            f'<label>{_t("Dataset")} <input name="dataset_ref" class="fermi-dataset-ref" '
            f'list="fermi-dataset-options" autocomplete="off" value="{_e(d.ref)}" '
            f'placeholder="Search datasets you can see…" data-i18n-placeholder="Search datasets you can see…"></label> '
            f'<label>{_t("Version")} <select name="dataset_version" class="fermi-dataset-version">'
            f'<option value="latest">latest ready</option>'
            + (
                f'<option value="{_e(d.version)}" selected>v{_e(d.version)}</option>'
                if d.version not in ("", "latest")
                else ""
            )
            + f"</select></label> "
            f'<label>{_t("Mount path")} <input name="dataset_path" class="fermi-dataset-path" '
            f'value="{_e(d.path)}" placeholder="/datasets/&lt;name&gt;"></label> '
            f'<span class="fermi-lock">{LOCK} {_t("read-only")}</span>'
            f"{_err(errors, f'datasets.{i}')}</div>"
        )
    parts.append(
        '</div><datalist id="fermi-dataset-options"></datalist>'
        '<button type="button" class="btn btn-default btn-sm" id="fermi-add-dataset">+ '
        f"{_t('Mount dataset')}</button>"
    )
    vrows = prefill.volumes or [VolumeChoice("")]
    parts.append(f"<h4>{_t('Mount volume')}</h4><div id='fermi-volumes'>")
    for i, v in enumerate(vrows):
        opts = ['<option value="">—</option>']
        for vol in volumes:
            usage = (vol.get("usage") or {}).get("bytes")
            label = (
                f"{vol['name']} · {vol['type']} · {_gib(usage)} / {_gib(vol['capacity_bytes'])}"
                + (f" · {vol['zone']}" if vol.get("zone") else "")
            )
            sel = " selected" if vol["id"] == v.volume_id else ""
            opts.append(f'<option value="{_e(vol["id"])}"{sel}>{_e(label)}</option>')
        parts.append(
            f'<div class="fermi-row fermi-volume-row"><label>{_t("Volume")} '
            f'<select name="volume_id" class="fermi-volume-id">{"".join(opts)}</select></label> '
            f'<label>{_t("Mount path")} <input name="volume_path" value="{_e(v.path)}" '
            f'placeholder="/workspace"></label> <label>{_t("Access")} <select name="volume_mode">'
            f'<option value="rw"{"" if v.read_only else " selected"}>read-write</option>'
            f'<option value="ro"{" selected" if v.read_only else ""}>read-only</option></select>'
            f"</label>{_err(errors, f'volumes.{i}')}</div>"
        )
    types = "".join(f'<option value="{k}">{_e(v)}</option>' for k, v in TYPES.items())
    hints = " · ".join(f"{k}: {v.split(' — ')[1]}" for k, v in TYPES.items())
    parts.append(f'<div class="fermi-hint">{_e(hints)}</div>')
    parts.append(
        f'</div><details class="fermi-new-volume"><summary>{_t("or create a new volume")}</summary>'
        f'<label>{_t("Name")} <input name="new_volume_name" placeholder="my-augmented-data"></label> '
        f'<label>{_t("Size")} <input name="new_volume_size" value="100Gi"></label> '
        f'<label>{_t("Type")} <select name="new_volume_type">{types}</select></label> '
        f'<label>{_t("Mount path")} <input name="new_volume_path" placeholder="/workspace/output"></label>'
        f"{_err(errors, 'new_volume')}</details></fieldset>"
    )
    parts.append(SCRIPT.replace("__SEARCH_URL__", _e(search_url)).replace("__ZH__", _zh_json()))
    return "".join(parts)


def _zh_json() -> str:
    import json

    return json.dumps(ZH, ensure_ascii=False)


STYLE = """<style>
.fermi-storage { margin-top: 1.5em; }
.fermi-storage legend { font-size: 1.4em; }
.fermi-storage h4 { margin-top: 1em; font-size: 1.1em; }
.fermi-storage .fermi-row { display: flex; flex-wrap: wrap; gap: .5em 1em; align-items: center;
  padding: .5em; margin-bottom: .4em; border: 1px solid #ddd; border-radius: 4px; }
.fermi-storage .fermi-lock { background: #455a64; color: #fff; border-radius: 3px;
  padding: .1em .5em; font-size: .85em; white-space: nowrap; }
.fermi-storage .fermi-error { flex-basis: 100%; color: #b00020; font-weight: 600; }
.fermi-storage .fermi-hint { flex-basis: 100%; color: #666; font-size: .85em; }
</style>"""

SCRIPT = """<script>
(function () {
  var searchUrl = "__SEARCH_URL__", zh = __ZH__;
  if ((navigator.language || "").toLowerCase().indexOf("zh") === 0) {
    document.querySelectorAll("#fermi-storage [data-i18n]").forEach(function (el) {
      var t = zh[el.getAttribute("data-i18n")]; if (t) { el.textContent = t; }
    });
    document.querySelectorAll("#fermi-storage [data-i18n-placeholder]").forEach(function (el) {
      var t = zh[el.getAttribute("data-i18n-placeholder")]; if (t) { el.placeholder = t; }
    });
  }
  var list = document.getElementById("fermi-dataset-options"), known = {}, timer = null;
  function search(q, row) {
    fetch(searchUrl + "?q=" + encodeURIComponent(q), {credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.json() : {items: []}; })
      .then(function (body) {
        list.innerHTML = "";
        body.items.forEach(function (d) {
          known[d.id] = d; known[d.name] = d;
          var o = document.createElement("option");
          o.value = d.id; o.label = d.owner + "/" + d.name + (d.latest ? " (v" + d.latest + ")" : "");
          list.appendChild(o);
        });
        if (row) { fill(row); }
      });
  }
  function fill(row) {
    var ref = row.querySelector(".fermi-dataset-ref").value, d = known[ref];
    if (!d) { return; }
    var path = row.querySelector(".fermi-dataset-path");
    if (!path.value) { path.value = "/datasets/" + d.name; }
    var sel = row.querySelector(".fermi-dataset-version");
    sel.innerHTML = '<option value="latest">latest ready' + (d.latest ? " (v" + d.latest + ")" : "") + "</option>";
    fetch(searchUrl + "/" + encodeURIComponent(d.id) + "/versions", {credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.json() : {items: []}; })
      .then(function (body) {
        body.items.forEach(function (v) {
          var o = document.createElement("option"); o.value = String(v.number);
          o.textContent = "v" + v.number + (v.aliases.length ? " (" + v.aliases.join(", ") + ")" : "");
          sel.appendChild(o);
        });
      });
  }
  function wire(row) {
    var input = row.querySelector(".fermi-dataset-ref");
    input.addEventListener("input", function () {
      clearTimeout(timer); var q = input.value;
      timer = setTimeout(function () { search(q, row); }, 150);
    });
    input.addEventListener("change", function () { fill(row); });
  }
  document.querySelectorAll(".fermi-dataset-row").forEach(wire);
  document.getElementById("fermi-add-dataset").addEventListener("click", function () {
    var rows = document.querySelectorAll(".fermi-dataset-row"), last = rows[rows.length - 1];
    var row = last.cloneNode(true);
    row.querySelectorAll("input").forEach(function (i) { i.value = ""; });
    row.querySelectorAll(".fermi-error").forEach(function (e) { e.remove(); });
    last.parentNode.appendChild(row); wire(row);
  });
  search("", null);
})();
</script>"""
