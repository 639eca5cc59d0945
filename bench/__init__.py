"""streamfn's load benchmarks: ``python -m bench [WORKLOAD]`` (see ``bench/README.md``).

Kept free of imports on purpose: the peer adapters under ``bench/peers/adapters`` run inside
their own virtualenvs (other redis-py versions, no streamfn dependencies) and import this
package only to reach their own module.
"""
