"""GraphQL at /graphql: a typed view of the Catalog facade, generated from the ontology and shapes."""
