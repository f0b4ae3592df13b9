"""Matching: offers each job to an eligible provider, handles accepts and declines."""
