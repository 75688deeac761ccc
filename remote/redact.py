"""Keep signed URLs out of logs: urllib3 logs every request's full URL at DEBUG level.

Presigned URLs (inputs a client shares, the PUT URL for a result) carry their signature in
the query string. FaceDeck's own messages name files, never URLs; this filter covers the
one third-party logger that prints them, whatever level the worker or server logs at.
"""

from __future__ import annotations

import logging
import re

URLLIB3_LOGGER = "urllib3.connectionpool"
_QUERY = re.compile(r"\?[^\s\"']*")


def redact_queries(text: str) -> str:
    """``text`` with every URL query string replaced by ``?<redacted>``."""
    return _QUERY.sub("?<redacted>", text)


class QueryRedactor(logging.Filter):
    """Rewrites a record's message and arguments without their query strings."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact_queries(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact_queries(arg) if isinstance(arg, str) else arg for arg in record.args)
        return True


def protect_request_logs() -> None:
    """Install the redactor on urllib3's request logger, once per process."""
    logger = logging.getLogger(URLLIB3_LOGGER)
    if not any(isinstance(item, QueryRedactor) for item in logger.filters):
        logger.addFilter(QueryRedactor())
