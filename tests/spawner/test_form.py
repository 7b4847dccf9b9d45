"""The spawn form's rendering: sizes people read, templates an admin can override, and what
the storage section shows when the registry cannot be used."""

from __future__ import annotations

import pytest

from fermi_jupyter.i18n import msg
from fermi_jupyter.spawner import form
from fermi_jupyter.spawner.choices import DatasetChoice, StorageChoices, VolumeChoice


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (None, "—"),
        (0, "0 B"),
        (1023, "1023 B"),
        (400 * 1024, "400 KiB"),  # not "0.0 GiB"
        (1536 * 1024, "1.5 MiB"),
        (5 * 2**30, "5.0 GiB"),
        (500 * 2**30, "500 GiB"),
        (3 * 2**40, "3.0 TiB"),
    ],
)
def test_sizes_people_read(n, text):
    assert form.human(n) == text


def test_a_volume_label_says_what_it_is():
    vol = {"name": "work", "type": "ssd", "capacity_bytes": 2**30, "usage": {"bytes": 409600}}
    assert form.volume_label(vol) == "work · ssd · 400 KiB / 1.0 GiB"
    assert form.volume_label({**vol, "zone": "cn-east-1"}).endswith(" · cn-east-1")


def render(**kw):
    args = {
        "hub_prefix": "/hub/",
        "volumes": [{"id": "vol-abcd1234", "name": "w", "type": "hdd", "capacity_bytes": 2**30}],
        "prefill": StorageChoices(
            [DatasetChoice("alice/imagenet", "3", "/datasets/in")],
            [VolumeChoice("vol-abcd1234", "/workspace", True)],
        ),
        "errors": {},
        "notices": [],
        "registry_down": None,
    }
    return form.render_storage(**{**args, **kw})


def test_remembered_choices_and_messages_render():
    html = render(
        errors={"datasets.0": msg("{path} is used twice", path="/data"), "mounts": "plain text"},
        notices=[msg("Your last volume {id} no longer exists and was dropped.", id="vol-x")],
    )
    assert 'value="alice/imagenet"' in html and '<option value="3" selected>v3</option>' in html
    assert (
        '<option value="vol-abcd1234" selected>' in html
        and 'value="ro" data-i18n="read-only" selected' in html
    )
    assert 'data-i18n="{path} is used twice"' in html and "/data is used twice" in html
    assert "plain text" in html and "vol-x no longer exists" in html
    assert 'src="/hub/fermi/static/form.js?v=' in html and "<script>" not in html  # a file


def test_the_registry_down_leaves_a_usable_form():
    html = render(registry_down=msg("the dataset registry is not reachable ({error})", error="x"))
    assert 'id="fermi-registry-down"' in html and "dataset_ref" not in html


def test_an_admin_overrides_a_template(tmp_path):
    (tmp_path / "storage.html").write_text("<div id=mine>{{ t('Storage mounts') }}</div>")
    html = render(template_paths=[str(tmp_path)])
    assert html == '<div id=mine><span data-i18n="Storage mounts">Storage mounts</span></div>'


def test_user_text_is_escaped():
    html = render(prefill=StorageChoices([DatasetChoice('"><script>alert(1)</script>')]))
    assert "<script>alert(1)" not in html and "&lt;script&gt;" in html
