"""How the app is served: uvicorn workers with a listening socket each, answers sent in one
write, and the garbage collector tuned for a server."""

from app.serving.server import APP, serve

__all__ = ["APP", "serve"]
