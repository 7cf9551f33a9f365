"""Gunicorn's settings for serving Keyline in production (`gunicorn cms.wsgi`; gunicorn reads this
file from the working directory). `make bench` serves the app with exactly these settings.

Sync workers, two per core plus one (gunicorn's own advice): Keyline's requests are short and
spend their time in Python, so threads in one process only queue for the interpreter lock. With
four processes of four threads on two cores, the unit-status call's p99 was 90-300 ms; with sync
workers it is under 20 ms at the same throughput (docs/BENCHMARKS.md). A sync worker keeps no
connection alive between requests: put it behind a buffering proxy (nginx), as gunicorn advises.
"""

import multiprocessing
import os

workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
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
