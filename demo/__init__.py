"""Acme Outfitters, the demo company: its vocabulary (databases, schemas, tables), columns,
people, teams, dashboards and pipelines, and the generator that turns them into assets."""

from demo.generator import DATA_KINDS, SEED, demo_assets, key, sql_type
from demo.governance import demo_governance, demo_rules

__all__ = ["DATA_KINDS", "SEED", "demo_assets", "demo_governance", "demo_rules", "key", "sql_type"]
