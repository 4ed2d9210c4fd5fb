"""The people-facing edge: FastAPI app, GraphQL schema, auth, and the ``crkg`` CLI."""
