"""The peers workload's machinery: pinned per-peer virtualenvs and the adapters run in them.

No imports here: ``bench.peers.adapters.*`` is imported inside peer virtualenvs that have
neither streamfn's dependencies nor our redis-py version.
"""
