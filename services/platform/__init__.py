"""The runtime every service shares: settings, event store, relay, consumers, HTTP app."""
