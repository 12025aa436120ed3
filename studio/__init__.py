"""Character Studio's domain core: settings, the Runway gateway, the session broker and the ledger.

Nothing here imports gradio or fastapi; pages, components and routes build on top of it.
"""

__version__ = "0.1.0"
