"""The domain core and its one facade, ``Catalog``."""

from catalog.catalog import Catalog
from catalog.settings import Settings

__all__ = ["Catalog", "Settings"]
