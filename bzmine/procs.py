"""Child processes end when their parent ends (house rule): the one helper every worker pool calls."""

from __future__ import annotations

import os
import time


def die_with_parent(parent: int) -> None:
    """Call first in a worker process: it ends when the process that started it dies (kill -9 included), instead of
    lingering forever (parse workers, plot workers).

    Linux: the kernel sends SIGTERM on the parent's death (PR_SET_PDEATHSIG). Elsewhere, and as a second line,
    a daemon thread checks every second that the parent is still ours.
    """
    import signal
    import threading

    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG = 1
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)

    def watch() -> None:
        while True:
            time.sleep(1.0)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, daemon=True, name="parent-watch").start()
