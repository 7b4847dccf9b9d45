"""Free loopback ports for the processes a test starts."""

import random
import socket
from pathlib import Path

# Ports the kernel hands out as the local end of outgoing connections. A port picked there and
# bound seconds later may meanwhile be taken by some client's connection (a UI run once failed
# so: "port … is not available"); below the range nobody takes it by chance.
_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")


def _ephemeral() -> tuple[int, int]:
    try:
        low, high = (int(x) for x in _RANGE.read_text().split())
        return low, high
    except (OSError, ValueError):
        return 32768, 60999


def free_port() -> int:
    """A port nothing listens on now, outside the ephemeral range when there is room below."""
    low, _high = _ephemeral()
    if low > 11000:
        for _ in range(200):
            port = random.randint(10000, low - 1)
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
