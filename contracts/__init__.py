"""Wire contracts between Talkoot's services: integration events, stream and subject names.

Imports nothing of ours, so that any service (or an outside consumer) can depend on it alone.
"""
