"""The lineage service: what feeds what, down to columns (lineage from SQL in lineage/sql.py)."""
