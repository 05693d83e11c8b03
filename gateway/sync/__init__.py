"""Keeping the public side and the vendors in step: outbox delivery, category sync, the job runner."""
