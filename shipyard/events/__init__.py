"""Events: the outbox table (written with the change that caused it) and its delivery to webhooks."""
