"""The Hugging Face engine: ``huggingface_hub`` itself, pointed at a Hub-compatible server on
loopback (tests/support/hf_hub.py): whole repositories, subsets, gated repositories, upload."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from .conftest import HF_TOKEN, policy, result_of, run_child


@pytest.fixture(scope="module")
def hub_repos(hub_server):
    hub_server.add("openai/whisper-tiny", {
        "README.md": b"# whisper\n", "tokenizer.json": b'{"a": 1}', "config.json": b"{}",
        "weights/model.bin": os.urandom(50_000),
    })  # fmt: skip
    hub_server.add("org/gated", {"data.txt": b"gated\n"}, token="hf_readerToken12")
    hub_server.add(
        "org/corpus", {"train/a.jsonl": b"{}\n", "test/b.jsonl": b"{}\n"}, repo_type="dataset"
    )
    return hub_server


def spec(root: Path, endpoint: str, repo: str, path: str = "models/w", **extra) -> dict:
    return {
        "direction": "download",
        "source": {
            "type": "huggingface",
            "repo": repo,
            "repo_type": extra.pop("repo_type", "model"),
            "revision": extra.pop("revision", None),
            "endpoint": endpoint,
            "files": extra.pop("files", None),
        },
        "sink": {"type": "volume", "volume_id": "vol-x", "path": path},
        "policy": policy(**extra),
        "local_root": str(root),
    }


def test_whole_repo_and_subset(hub_repos, volume):
    code, events, err = run_child(spec(volume, hub_repos.endpoint, "openai/whisper-tiny"))
    assert code == 0, (events, err)
    res = result_of(events)
    target = volume / "models" / "w"
    assert sorted(str(p.relative_to(target)) for p in target.rglob("*") if p.is_file()) == [
        "README.md", "config.json", "tokenizer.json", "weights/model.bin",
    ]  # fmt: skip
    assert len(res["revision"]) == 40 and res["files"] == 4
    code, events, _ = run_child(
        spec(
            volume,
            hub_repos.endpoint,
            "openai/whisper-tiny",
            path="sub",
            files=["README.md", "tokenizer.json"],
        )
    )
    assert code == 0, events
    assert sorted(p.name for p in (volume / "sub").iterdir()) == ["README.md", "tokenizer.json"]
    code, events, _ = run_child(
        spec(volume, hub_repos.endpoint, "org/corpus", path="ds", repo_type="dataset",
             extra_args=["--include=train/*"])
    )  # fmt: skip
    assert code == 0, events
    assert [p.name for p in (volume / "ds").rglob("*.jsonl")] == ["a.jsonl"]


def test_gated_repo_needs_a_token(hub_repos, volume):
    code, events, err = run_child(
        spec(volume, hub_repos.endpoint, "org/gated"), {"token": "hf_wrongWrong99"}
    )
    assert code == 2
    assert result_of(events)["reason"] == "unauthorized"
    assert "hf_wrongWrong99" not in repr(events) + err
    code, events, err = run_child(
        spec(volume, hub_repos.endpoint, "org/gated"), {"token": "hf_readerToken12"}
    )
    assert code == 0, (events, err)
    assert (volume / "models" / "w" / "data.txt").read_text() == "gated\n"
    code, events, _ = run_child(spec(volume, hub_repos.endpoint, "org/nope", path="n"))
    assert code == 2 and result_of(events)["reason"] == "not-found"


def test_upload_folder_to_a_new_repo(hub_repos, volume, tmp_path):
    src = volume / "results"
    (src / "eval").mkdir(parents=True)
    (src / "eval" / "scores.json").write_text('{"acc": 0.9}')
    (src / "model.txt").write_text("m")
    os.symlink(tmp_path, src / "escape")
    up = {
        "direction": "upload",
        "source": {"type": "volume", "volume_id": "vol-x", "path": "results"},
        "sink": {
            "type": "huggingface",
            "repo": "me/finetuned",
            "repo_type": "model",
            "revision": None,
            "endpoint": hub_repos.endpoint,
            "path_in_repo": "run1",
            "commit_message": "from fermi",
        },
        "policy": policy(),
        "local_root": str(volume),
    }
    code, events, err = run_child(up, {"token": HF_TOKEN})
    assert code == 0, (events, err)
    repo = hub_repos.repos[("model", "me/finetuned")]
    tree = repo.commits[repo.refs["main"]]
    assert tree["run1/eval/scores.json"] == b'{"acc": 0.9}' and tree["run1/model.txt"] == b"m"
    assert not [p for p in tree if "escape" in p]
    assert result_of(events)["revision"] == repo.refs["main"]
    code, events, _ = run_child(up, {"token": "hf_notTheWriter1"})
    assert code == 2 and result_of(events)["reason"] == "unauthorized", events
