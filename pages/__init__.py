"""One module per tab; each exposes `build(ctx)` and wires its own events."""
