"""The studio's JSON routes, mounted beside the Gradio UI."""
