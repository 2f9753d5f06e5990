"""Starts real worker processes cheaply, for the crash tests.

`python -m tests.reliability.worker_launcher` imports the worker's code and loads the
embedding model once (about 14 s of CPU on a small machine), then forks on request:
each child runs `jobs.worker` exactly as `python -m jobs.worker` does (runpy, as
`__main__`: its own event loop, database pool, Redis connections and arq Worker), so
killing it with SIGKILL is a real worker crash. Without the fork a trial would spend
most of its time starting Python.

Protocol, one line each way: the test writes `start <log path>`, the launcher
answers the child's pid. EOF on stdin kills the remaining children and exits.
"""

from __future__ import annotations

import contextlib
import os
import runpy
import signal
import sys


def _preload() -> None:
    import torch

    # One thread: no OpenMP pool exists when we fork, so the children start clean.
    torch.set_num_threads(1)
    import litellm

    import jobs.worker  # noqa: F401  (the import cost is the point)
    from agents.provider import register_providers

    # litellm imports most of itself on first use: one call of each kind, here.
    register_providers()
    litellm.completion(
        model="switchboard/offline", messages=[{"role": "user", "content": "hi"}]
    )
    litellm.embedding(model="switchboard/minilm", input=["warm up"])
    # The built-in model's intent classifier (its fit and the embeddings of its
    # training set): loaded once here, not in every child a trial kills before
    # its warm-up ends.
    from agents.intents import classifier

    classifier()


def _child(log_path: str) -> None:
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    try:
        runpy.run_module("jobs.worker", run_name="__main__", alter_sys=True)
    finally:
        os._exit(0)


def main() -> None:
    _preload()
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped for us
    children: list[int] = []
    print("ready", flush=True)
    for line in sys.stdin:
        command, _, arg = line.strip().partition(" ")
        if command != "start":
            continue
        pid = os.fork()
        if pid == 0:
            _child(arg)
        children.append(pid)
        print(pid, flush=True)
    for pid in children:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


if __name__ == "__main__":
    main()
