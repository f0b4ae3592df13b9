"""Talkoot's deployable services and the runtime they share (``services.platform``)."""
