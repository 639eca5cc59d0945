"""``python -m runner [--concurrency N] [--burst]``: see :func:`runner.supervisor.main`."""

from streamfn.runner.supervisor import main

if __name__ == "__main__":
    raise SystemExit(main())
