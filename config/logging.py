"""Logging pieces of our own, wired in settings.LOGGING."""

from __future__ import annotations

import logging


class OneLineRefusals(logging.Filter):
    """A refused act (403, 404, 409, any 4xx) is the client's mistake or the rules at
    work, not a defect: Django logs it with the exception's traceback attached, which
    buries real errors. This keeps it to one line that names the reason; 5xx keep their
    traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if status is None or status >= 500 or not record.exc_info:
            return True
        exc = record.exc_info[1]
        reason = str(exc).strip() if exc is not None else ""
        message = record.getMessage()
        if reason and reason not in message:
            message = f"{message} ({reason})"
        record.msg, record.args = message, ()
        record.exc_info = record.exc_text = None
        return True
