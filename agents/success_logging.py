"""litellm's success logging runs only when someone listens to it.

After every `acompletion` and `aembedding` litellm schedules a task that builds its
standard logging payload (messages, usage, cost, metadata) for the success callbacks
(Langfuse, S3, a CustomLogger...), and builds it even when none is registered. With
none registered that payload goes nowhere: this project keeps its own usage, cost
and latency figures (agents/model.py, app/services/usage.py), and the task runs
after the call has returned, so nothing of ours can read what it writes. On one
worker it was about 3 ms of event-loop CPU per turn, an eighth of the turn's
(`python -m bench.turn_cpu`, alternating runs with and without it).

So the task's body is skipped while no success callback, global or per call, is
registered, and runs unchanged as soon as one is: setting `litellm.callbacks` or
`litellm.success_callback` keeps working as litellm documents it. The wrapper
around the body (its context bookkeeping) always runs. litellm is pinned
(requirements-nodeps.txt); tests/model/test_success_logging.py checks both cases
against the pinned version.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import litellm
from litellm.litellm_core_utils.litellm_logging import Logging

_Body = Callable[..., Awaitable[None]]

_litellm_body: _Body = Logging._async_success_handler_body


def has_success_callbacks(logging_obj: Any) -> bool:
    """Whether any success callback would hear of this call: litellm's global lists
    (`litellm.callbacks` is copied into them at the call's setup, and counted here
    as well) or the call's own."""
    return bool(
        litellm.callbacks
        or litellm.success_callback
        or litellm._async_success_callback
        or getattr(logging_obj, "dynamic_success_callbacks", None)
        or getattr(logging_obj, "dynamic_async_success_callbacks", None)
    )


async def _body_when_heard(self: Logging, *args: Any, **kwargs: Any) -> None:
    if has_success_callbacks(self):
        await _litellm_body(self, *args, **kwargs)


def skip_unheard_success_logging() -> None:
    """Install the guard (idempotent; agents.provider.register_providers calls it
    before any model call)."""
    Logging._async_success_handler_body = _body_when_heard
