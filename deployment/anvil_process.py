"""An anvil process that leaves nothing behind.

anvil spills old chain states to ``$HOME/.foundry/anvil/tmp/anvil-state-*`` and keeps
them when it is stopped: a day of test runs and campaigns left 79 GB there and filled
the disk. Each process started here gets a temporary ``HOME`` of its own, removed when
it is stopped.

    process = start([binary, "--port", "8545", ...], stdout=subprocess.DEVNULL)
    ...
    stop(process)
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile

_HOMES: dict[int, str] = {}  # pid -> the temporary HOME to remove


def free_port() -> int:
    """A localhost port nothing listens on now, for a process this project starts."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(argv: list[str], **popen) -> subprocess.Popen:
    """``subprocess.Popen(argv, **popen)`` with a temporary ``HOME``."""
    home = tempfile.mkdtemp(prefix="anvil-home-")
    try:
        process = subprocess.Popen(argv, env={**os.environ, "HOME": home}, **popen)
    except BaseException:
        shutil.rmtree(home, ignore_errors=True)
        raise
    _HOMES[process.pid] = home
    return process


def home_of(process: subprocess.Popen) -> str:
    """The temporary ``HOME`` of a running ``process``."""
    return _HOMES[process.pid]


def stop(process: subprocess.Popen, timeout: float = 5) -> None:
    """Terminate ``process`` (kill it after ``timeout`` s), then remove its ``HOME``."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    home = _HOMES.pop(process.pid, None)
    if home is not None:
        shutil.rmtree(home, ignore_errors=True)
