"""The notebook side's core: what this server mounts, local browsing, and every verb, used by
the server extension (async), and by the ``fermi`` CLI and ``%fermi`` magics (sync)."""
