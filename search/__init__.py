"""Full-text search (tantivy), facets, filters and hybrid ranking over the catalog's assets.

The catalog wires it up (``catalog.search.SearchService``); the values below are what callers
exchange with it.
"""

from search.model import FacetValue, Hit, SearchRequest, SearchResult

__all__ = ["FacetValue", "Hit", "SearchRequest", "SearchResult"]
