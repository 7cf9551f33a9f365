"""Gunicorn's settings for serving Keyline in production (`gunicorn cms.wsgi`; gunicorn reads this
file from the working directory). `make bench` serves the app with exactly these settings.

Sync workers, one per core plus one (ADR 12): requests are short and spend their time in Python,
so threads would only queue for the interpreter lock, and more processes than cores only take
turns. The one worker beyond the cores keeps a core busy while another waits for the database or
streams an export. Raise `WEB_CONCURRENCY` where requests wait longer (a database across a
network).

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

# The loaded application's objects live as long as the worker: freeze them so the collector
# stops walking them, and raise the first generation's threshold so a request's short-lived
# objects mostly die before a collection (ADR 13). Cycles are still collected, less often.
GC_FIRST_GENERATION_THRESHOLD = int(os.environ.get("GC_FIRST_GENERATION_THRESHOLD", "5000"))


def post_worker_init(worker):
    import gc

    gc.collect()
    gc.freeze()
    _threshold, *older = gc.get_threshold()
    gc.set_threshold(GC_FIRST_GENERATION_THRESHOLD, *older)
