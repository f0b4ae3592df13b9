"""Read models in PostgreSQL, kept with asyncpg from the services' JetStream streams.

Each projection records the upstream position it has applied in the same transaction as its
rows, so a redelivered event changes nothing, and a reader can wait for a given position.
"""
