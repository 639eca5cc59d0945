"""The Lua scripts: one file per atomic operation.  Loaded by :mod:`streamfn.scripts`."""
