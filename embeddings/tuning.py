"""Tuning the sentence encoder to a catalog's questions, as a small LoRA adapter.

all-MiniLM-L6-v2 was trained on general sentence pairs; asked "which makers produced cars in
1970?", it ranks ``car_makers`` among forty tables of other databases. Fine-tuned on questions
paired with the documents of the tables that answer them (in-batch negatives, sentence-
transformers' ``MultipleNegativesRankingLoss``), it learns how people ask for data. Only a LoRA
adapter (peft) is trained and kept: 2.7 MB beside the code, merged into the model's
weights when it loads (``embeddings/encoder.py``), so a query costs what it did. Measured
(README, search): it helps catalogs of undescribed tables and costs described, mixed ones,
so it is off unless chosen. Training needs ``datasets`` and ``accelerate`` (the dev extra);
``bench/tune_encoder.py`` runs it.
"""

from __future__ import annotations

import json
import random
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from embeddings.encoder import MINILM, load_minilm


@dataclass(frozen=True)
class TuningConfig:
    rank: int = 16  # LoRA rank: the adapter's size grows with it
    epochs: int = 1
    learning_rate: float = 2e-4
    batch_size: int = 32  # in-batch negatives: more is harder, and slower on a CPU
    max_seq_length: int = 128  # tokens of a document seen in training (search embeds 256)
    seed: int = 1


def train_adapter(pairs: Sequence[tuple[str, str]], out: Path,
                  config: TuningConfig = TuningConfig(), *, threads: int = 2) -> Path:
    """Train on (question, document) pairs and save the adapter to ``out`` (a directory
    that ``MiniLMEmbedder(adapter=out)`` loads). A batch never holds one text twice, so a
    question needing two tables is not told that one of them is wrong."""
    import torch
    from datasets import Dataset
    from peft import LoraConfig
    from sentence_transformers import SentenceTransformerTrainer as Trainer
    from sentence_transformers import SentenceTransformerTrainingArguments as Arguments
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss
    from sentence_transformers.training_args import BatchSamplers

    torch.set_num_threads(threads)
    torch.manual_seed(config.seed)
    model = load_minilm(None, shared=False)
    model.max_seq_length = config.max_seq_length
    model.add_adapter(LoraConfig(r=config.rank, lora_alpha=2 * config.rank, lora_dropout=0.1,
                                 target_modules=["query", "key", "value", "dense"]))
    shuffled = list(pairs)
    random.Random(config.seed).shuffle(shuffled)
    data = Dataset.from_dict({"anchor": [q for q, _ in shuffled],
                              "positive": [d for _, d in shuffled]})
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="semcat-tuning-") as scratch:
        args = Arguments(
            output_dir=scratch, num_train_epochs=config.epochs,
            per_device_train_batch_size=config.batch_size, learning_rate=config.learning_rate,
            warmup_steps=0.1, batch_sampler=BatchSamplers.NO_DUPLICATES, save_strategy="no",
            logging_steps=50, report_to=[], seed=config.seed, use_cpu=True)
        Trainer(model=model, args=args, train_dataset=data,
                loss=MultipleNegativesRankingLoss(model)).train()
    # the transformer with an adapter attached writes the adapter only (the package has the rest)
    model[0].auto_model.save_pretrained(str(out))
    saved = json.loads((out / "adapter_config.json").read_text())
    saved["base_model_name_or_path"] = f"sentence-transformers/{MINILM}"  # not this machine's path
    (out / "adapter_config.json").write_text(json.dumps(saved, indent=2) + "\n")
    (out / "tuning.json").write_text(json.dumps(
        {**asdict(config), "pairs": len(pairs), "seconds": round(time.perf_counter() - t0)},
        indent=2) + "\n")
    return out
