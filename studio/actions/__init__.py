"""Actions: the tools a character can use in a call (Runway session `tools`).

`tools` checks definitions against the API's limits, `templates` offers ready ones, `answers`
says how the studio answers a backend RPC tool, `store` keeps tool sets and tool calls beside the
ledger, `service` gives sessions their tools and joins rooms as their backend, and `rpc_backend`
is that backend on its own: it imports nothing of the studio, so another app can reuse it.
"""
