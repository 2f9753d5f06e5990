"""Structured logs: JSON lines carrying the ids of the work in progress."""

from __future__ import annotations

import json
import logging

from app.core.logs import JsonFormatter, log_context


def test_json_line_carries_context_ids_and_extras() -> None:
    logger = logging.getLogger("switchboard.test")
    with log_context(tenant_id="t-1", message_id="m-1", job_id=None):
        record = logger.makeRecord(
            logger.name,
            logging.INFO,
            __file__,
            1,
            "turn done",
            (),
            None,
            extra={"outcome": "done"},
        )
    line = json.loads(JsonFormatter().format(record))
    assert line["msg"] == "turn done"
    assert (line["tenant_id"], line["message_id"]) == ("t-1", "m-1")
    assert "job_id" not in line
    assert line["outcome"] == "done" and line["level"] == "info"


def test_context_is_restored_after_the_block() -> None:
    with log_context(tenant_id="outer"):
        with log_context(message_id="inner"):
            pass
        record = logging.getLogger("x").makeRecord("x", 20, "f", 1, "m", (), None)
    assert record.__dict__["tenant_id"] == "outer"
    assert "message_id" not in record.__dict__
