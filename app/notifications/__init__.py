"""Notifications: the outbox written with each change, the inbox, email and webhooks
delivered at least once by the worker."""
