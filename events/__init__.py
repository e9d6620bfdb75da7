"""The change stream: every applied changeset as an event, for SSE subscribers and brokers."""
