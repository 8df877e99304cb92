"""The ComfyUI generator: its workflows, the API of one server, and the choice among servers."""
