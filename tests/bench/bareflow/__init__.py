"""A bare viewflow flow with the 发文 flow's shape and no business logic: the bench's baseline.

Used only by tests/bench/test_flow_bench.py; never in the product's INSTALLED_APPS (see apps.py).
"""
