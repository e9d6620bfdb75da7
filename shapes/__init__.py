"""SHACL shapes and validation (lands with the governance issue)."""
