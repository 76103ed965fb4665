"""The edges: messenger adapters, the command line, the server, the composition root."""
