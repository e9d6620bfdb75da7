"""Sentence encoders (offline all-MiniLM-L6-v2) and the FAISS vector index they fill."""

from embeddings.encoder import Embedder, HashingEmbedder, MiniLMEmbedder

__all__ = ["Embedder", "HashingEmbedder", "MiniLMEmbedder"]
