"""One adapter per peer, each run inside that peer's own virtualenv (``python -m``).

Only the standard library, redis-py and the peer's own package may be imported here.
"""
