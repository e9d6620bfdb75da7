"""Sentence-transformers encoder and FAISS index (lands with the search issue)."""
