"""A transfer may not be a way into the registry's own neighbourhood: this machine and cloud
metadata services are refused by address, by name (what it resolves to) and in the numeric forms
Git and HTTP libraries accept — when the transfer is asked for, and again when an attempt
starts (a name can point elsewhere by then)."""

from __future__ import annotations

from pathlib import Path

import pytest

from fermi_jupyter.transfers.errors import SpecError, TransferError
from fermi_jupyter.transfers.run import _check_hosts
from fermi_jupyter.transfers.spec import check_host

REFUSED = [
    "http://127.0.0.1/r.git",
    "http://127.1/r.git",  # inet_aton's short form: git and curl connect to 127.0.0.1
    "http://2130706433/r.git",  # 127.0.0.1 as one number
    "http://0x7f000001/r.git",
    "http://0.0.0.0:9000",
    "http://[::1]:9000",
    "http://[::ffff:127.0.0.1]:9000",  # IPv4 inside IPv6
    "http://169.254.169.254/latest/meta-data",  # cloud metadata (link-local)
    "http://[fd00:ec2::254]/latest",  # AWS's IPv6 metadata address
    "http://localhost:9000",
    "http://api.localhost/",
    "http://localhost./r.git",
    "http://LOCALHOST/r.git",
]


def _loopback_names() -> list[str]:
    """Names this machine's /etc/hosts points at itself (other than localhost): refused for
    what they resolve to, not for how they are spelt."""
    names = []
    for line in Path("/etc/hosts").read_text().splitlines():
        fields = line.split("#")[0].split()
        if fields and (fields[0].startswith("127.") or fields[0] == "::1"):
            names += [n for n in fields[1:] if "localhost" not in n]
    return names


REFUSED += [f"http://{name}:9000/r.git" for name in _loopback_names()]
ALLOWED = [
    "https://github.com/org/repo.git",  # (not resolvable here: nothing to connect to either)
    "https://192.0.2.10/r.git",
    "http://10.0.0.5:9000",  # an S3 service inside the cluster network is fine
    "https://s3.example.invalid",
]


@pytest.mark.parametrize("url", REFUSED)
def test_internal_addresses_are_refused(url):
    with pytest.raises(SpecError, match=r"not a remote service address|is this machine"):
        check_host(url, allow_loopback=False)
    check_host(url, allow_loopback=True)  # (the test servers' setting)


@pytest.mark.parametrize("url", ALLOWED)
def test_remote_addresses_pass(url):
    check_host(url, allow_loopback=False)


def test_an_attempt_checks_the_hosts_again_when_it_starts():
    spec = {"direction": "download", "source": {"type": "git", "url": "http://127.1/r.git"}}
    with pytest.raises(TransferError) as e:
        _check_hosts(spec)
    assert e.value.reason == "refused" and not e.value.retryable
    _check_hosts({**spec, "allow_loopback": True})
    upload = {"direction": "upload", "sink": {"type": "s3", "endpoint": "http://[::1]:9"}}
    with pytest.raises(TransferError):
        _check_hosts(upload)
