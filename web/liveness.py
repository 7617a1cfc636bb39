"""Which process holds a batch job, and whether that process still runs.

A job records the host, pid and start time of the process holding it. On the same host the
process can be looked at: a missed heartbeat (the database blinked, the machine was busy) is not
a stopped job while that very process (same pid, same start time, not a zombie) still runs. On
another host nothing can be looked at, and the heartbeat timeout is all there is.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path


def _proc_stat(pid: int) -> list[str] | None:
    """Fields 3.. of ``/proc/<pid>/stat`` (state first), or None without such a process (or /proc)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (OSError, ValueError):
        return None
    return text.rsplit(")", 1)[1].split()


def started(pid: int) -> str | None:
    """When the process started (clock ticks since boot, from /proc), or None where that is unknown."""
    fields = _proc_stat(pid)
    return fields[19] if fields and len(fields) > 19 else None


def identity(pid: int | None = None) -> dict[str, object]:
    """This process (or ``pid`` on this host) as the ``worker_host``, ``worker_pid``, ``worker_started`` values."""
    pid = pid or os.getpid()
    return {"worker_host": socket.gethostname()[:255], "worker_pid": pid, "worker_started": started(pid)}


def alive(host: str | None, pid: int | None, start: str | None) -> bool | None:
    """Whether the recorded process still runs: True or False on this host, None (unknown) elsewhere."""
    if not host or not pid or host != socket.gethostname()[:255]:
        return None
    fields = _proc_stat(pid)
    if fields is not None:
        return fields[0] not in ("Z", "X") and (start is None or fields[19] == start)
    if Path("/proc/self/stat").exists():
        return False  # /proc is there and the pid is not
    try:
        os.kill(pid, 0)  # no /proc (macOS): the pid alone
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
