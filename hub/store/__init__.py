"""Persistence: SQLModel tables, the unit of work, repositories, the outbox relay, migrations."""
