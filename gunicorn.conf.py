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
