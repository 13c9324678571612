"""A run's trial concurrency limit, chosen per run in the trigger form.

Airflow caps mapped trials at a number fixed when the DAG is parsed; a run that asks for
fewer at once takes one of `n` file locks in its run folder before training, so at most
`n` of its trials train together whatever the executor starts. Local (shared disk) only:
on AWS each trial is a Batch job and the job queue's capacity is the limit.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import time
from collections.abc import Iterator
from pathlib import Path

log = logging.getLogger(__name__)


@contextlib.contextmanager
def trial_slot(folder: Path, n: int, poll_s: float = 1.0) -> Iterator[int]:
    """Hold one of `n` slots under `folder` for the duration of the block."""
    folder.mkdir(parents=True, exist_ok=True)
    waited, announced = 0.0, False
    while True:
        for k in range(n):
            fh = (folder / f"slot-{k}.lock").open("a")
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                fh.close()
                continue
            try:
                if announced:
                    log.info("got trial slot %d of %d after %.0f s", k + 1, n, waited)
                yield k
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)
                fh.close()
            return
        if not announced:
            log.info("all %d trial slots busy: waiting", n)
            announced = True
        time.sleep(poll_s)
        waited += poll_s
