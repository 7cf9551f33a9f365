"""Logging of the requests a person is refused: one line each, with the reason."""

import logging


class RefusalsOnOneLine(logging.Filter):
    """On `django.request`: a 4xx answer raised as an exception (PermissionDenied, a bad request)
    is logged with its reason instead of its traceback. It is the app refusing, not failing."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and 400 <= getattr(record, "status_code", 500) < 500:
            reason = str(record.exc_info[1] or "").strip()
            if reason:
                record.msg = f"{record.msg} (%s)"
                record.args = (*(record.args or ()), reason)
            record.exc_info = record.exc_text = None
        return True
