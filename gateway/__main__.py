"""``python -m gateway``: run the gateway with settings from the environment."""

from streamfn.gateway.app import main

raise SystemExit(main())
