"""streamfn: a serverless-style function runner over Redis Streams.

Handlers import from here: ``from streamfn import Context, PermanentError``.
"""

from streamfn.context import Context, PermanentError

__all__ = ["Context", "PermanentError", "__version__"]
__version__ = "0.1.0"
