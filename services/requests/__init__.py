"""Residents' service requests: submitting, following, completing and confirming them."""
