"""CPU priority of the emulated consumers: below the API's and the engine's.

On AWS a stream or queue consumer runs in its own Lambda container, never on the CPU that
answers API requests; on a 2-core laptop the warm workers, their pollers and the API share
the same cores, and a batch of 100 stream records could hold a core for as long as a read
waits behind it (issue 12: read p99 300 ms while consumers ran). Niceness keeps the split
faithful: the consumers still get every idle cycle, but a read that becomes runnable is
scheduled first.
"""

from __future__ import annotations

import logging
import os
import threading

__all__ = ["CONSUMER_NICE", "lower_process", "lower_thread"]

log = logging.getLogger("harvest.local")
# Nice 5: a runnable API request or engine thread weighs 3x a consumer's (the kernel's
# weights shrink by 1.25x a step), enough to be scheduled first; not lower, so that a CPU
# hog at the default priority (a build, a test's busy loop) slows the pipeline down
# without starving it.
CONSUMER_NICE = 5


def lower_process(nice: int) -> None:
    """This process (and the threads it starts from now on) `nice` steps lower."""
    if nice > 0:
        try:
            os.nice(nice)
        except OSError as error:  # pragma: no cover - nice can only fail to go negative
            log.debug("could not lower the priority: %s", error)


def lower_thread(nice: int) -> None:
    """The calling thread only, `nice` steps lower. Linux keeps a nice value per thread
    (setpriority on the thread id); elsewhere this is a no-op, the thread keeps running."""
    if nice <= 0 or not hasattr(os, "setpriority"):
        return
    thread_id = threading.get_native_id()
    try:
        current = os.getpriority(os.PRIO_PROCESS, thread_id)
        os.setpriority(os.PRIO_PROCESS, thread_id, min(19, current + nice))
    except OSError as error:  # pragma: no cover - platform without per-thread priorities
        log.debug("could not lower the priority of thread %d: %s", thread_id, error)
