"""Reusable Gradio pieces."""
