"""The GraphQL API (strawberry): schema, per-request context, DataLoaders and jobs."""
