"""The gateway: the ASGI app every AWS call enters, and the pipeline it runs."""
