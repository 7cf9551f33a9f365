"""Gunicorn's settings for serving Keyline in production (`gunicorn cms.wsgi`; gunicorn reads this
file from the working directory). `make bench` serves the app with exactly these settings.

Sync workers, one per core plus one. Keyline's requests are short and spend their time in
Python, so threads in one process only queue for the interpreter lock: with four processes of
four threads on two cores, the unit-status call's p99 was 90-300 ms. gunicorn's starting point of
two workers per core plus one is meant for workers that wait; ours mostly compute, and every
process beyond what the cores can run only takes turns with the others. On two cores, 5 workers
against 3, side by side (docs/BENCHMARKS-notes.md, fifteenth round): the unit-status call gave
1,210-2,007 against 1,806-2,401 requests per second, p99 21-28 against 13-18 ms, and each bare
request cost the workers 0.77-0.86 against 0.69-0.78 ms of CPU; redemptions, which wait for the
database, ran at about the same rate (220-304 against 216-278 per second, 256 against 251 on
average). The one worker more than cores keeps a core busy while another worker waits for the
database or a long export. Raise `WEB_CONCURRENCY` where requests wait longer (a database
across a network).

A sync worker keeps no connection alive between requests: put it behind a buffering proxy
(nginx), as gunicorn advises.
"""

import multiprocessing
import os

workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() + 1))
worker_class = "sync"
# A slow client must not hold a sync worker: the proxy in front buffers requests and answers.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
backlog = 2048

# Garbage collection in a worker. The cyclic collector walks every container object it tracks,
# and the loaded application is a hundred thousand of them (modules, models, URL patterns,
# compiled templates) that live as long as the process: a full collection of those cost about
# 70 ms, and a Codes window page paid 3 ms for the collector in all. Frozen once the worker has
# loaded the app (Python's own advice for a forked server: `gc.freeze`), they are no longer
# walked; a larger first-generation threshold then lets a request's short-lived objects die
# before a collection looks at them (the collector's share of a page: 3 ms -> 0.6 ms,
# docs/BENCHMARKS-notes.md, eighth round). Cycles are still collected, just less often.
GC_FIRST_GENERATION_THRESHOLD = int(os.environ.get("GC_FIRST_GENERATION_THRESHOLD", "5000"))


def post_worker_init(worker):
    import gc

    gc.collect()
    gc.freeze()
    _threshold, *older = gc.get_threshold()
    gc.set_threshold(GC_FIRST_GENERATION_THRESHOLD, *older)
