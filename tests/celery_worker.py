"""A real `celery -A cms worker` process on the test database, for the tests that need one
(PostgreSQL and Redis: a worker cannot share SQLite's in-memory test database)."""

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

BASE_DIR = Path(settings.BASE_DIR)


def database_url_of_the_test_database() -> str:
    db = connection.settings_dict
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


@pytest.fixture
def worker_queue():
    """A queue of the test's own: its workers take only what the test sends, and what the test
    process sends without naming a queue (a service's `on_commit` task) goes there too."""
    from cms.celery import app

    queue = f"keyline-test-{uuid.uuid4().hex[:8]}"
    default = app.conf.task_default_queue
    app.conf.task_default_queue = queue
    yield queue
    app.conf.task_default_queue = default


class Worker:
    """A worker consuming `queue` only, which is also its default queue, so the tasks it sends
    come back to it. It runs in a session of its own: `kill()` takes its pool processes with it,
    as a lost host would."""

    def __init__(self, queue: str, log: Path, *, pool: str = "prefork", concurrency: int = 1, env: dict | None = None):
        assert connection.settings_dict["NAME"].startswith("test_"), "never point a worker at the dev database"
        self.log = log
        env = {
            **os.environ,
            "DATABASE_URL": database_url_of_the_test_database(),
            "REDIS_URL": settings.REDIS_URL,
            "CELERY_QUEUE": queue,
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "DB_CONN_MAX_AGE": "0",
            **(env or {}),
        }
        with log.open("a") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "cms", "worker", f"--pool={pool}", f"--concurrency={concurrency}",
                 "-Q", queue, "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel=INFO"],
                cwd=BASE_DIR, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            )

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def output(self) -> str:
        return self.log.read_text()

    def assert_alive(self) -> None:
        assert self.process.poll() is None, "the worker died:\n" + self.output()

    def pool_pids(self) -> list[int]:
        """The pool's processes (prefork), once they have started."""
        pid = self.process.pid
        children = Path(f"/proc/{pid}/task/{pid}/children")
        return [int(child) for child in children.read_text().split()] if children.exists() else []

    def kill(self) -> None:
        """SIGKILL to the worker and its pool processes at once."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        """A warm shutdown: the worker finishes the tasks it runs."""
        if self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill()


def wait_for(condition, *, worker: Worker | None = None, timeout: float = 60, what: str = "the condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if worker is not None:
            worker.assert_alive()
        assert time.monotonic() < deadline, f"{what} did not happen in {timeout:.0f} s" + (
            f"\n{worker.output()[-4000:]}" if worker is not None else ""
        )
        time.sleep(0.02)
