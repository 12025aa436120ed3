"""Calls: a session from request to its end (broker), the guards that admit it, the ledger that
records it, and the refresher that follows it upstream until it ends."""
