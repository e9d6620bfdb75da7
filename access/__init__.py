"""Who may do what: identity (API keys, OpenID Connect), users, teams, roles and policies as RDF,
the access partitions every write is routed into and every read is narrowed to, and the audit
log of what was done and refused."""
