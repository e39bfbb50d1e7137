"""Runtime: the stream worker, transport, subscribers, outbox relay, embedded Redis."""
