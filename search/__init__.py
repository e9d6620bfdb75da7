"""Full-text index, facets and hybrid ranking (lands with the search issue)."""
