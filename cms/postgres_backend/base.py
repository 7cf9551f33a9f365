"""Django's PostgreSQL backend, with one change: the health check of a reused connection
(CONN_HEALTH_CHECKS) looks at the connection's socket before it asks the server.

Django checks a persistent connection at the start of every request with `SELECT 1`, so that a
server restart costs a reconnection instead of failed requests. That is one more round trip on
every request: on the API's redemption, one in nine, about 0.2 ms of the web worker's and the
server's CPU (docs/BENCHMARKS-notes.md, tenth round).

A connection that sits idle between requests receives nothing unless the server has something
to say: when it restarts or ends the session (`pg_terminate_backend`, an idle timeout), it sends
an error and closes the socket. So a socket with nothing to read is a connection the server still
holds open, and is used without a query; a socket with something to read -- that error, the end
of the stream, or a harmless notice -- gets Django's own check (`SELECT 1`), which reads it and
decides. A connection that psycopg already knows is closed or broken is dropped at once.

Not seen by either check without asking: a server host gone without closing its sockets. Django's
check would spend a query finding that out; here the request's first query fails, the request
fails, and Django drops the connection at its end (`close_if_unusable_or_obsolete`). The checks
Django makes after a request that saw errors are unchanged (a real `SELECT 1`).
"""

import select

from django.db.backends.postgresql import base


class DatabaseWrapper(base.DatabaseWrapper):
    def close_if_health_check_failed(self):
        if self.connection is None or not self.health_check_enabled or self.health_check_done or self.pool:
            return super().close_if_health_check_failed()
        if self.connection.closed or self.connection.broken:
            self.close()
        elif _has_something_to_read(self.connection.fileno()):
            return super().close_if_health_check_failed()
        self.health_check_done = True


def _has_something_to_read(fd: int) -> bool:
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLPRI)
    return bool(poller.poll(0))
