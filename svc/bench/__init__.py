"""``make bench``: the service's throughput, latency, fan-out and memory, beside its ceilings.

Every figure is measured against real processes on this machine in the same run as the
ceilings it is compared with, so the ratios stay meaningful on a noisy shared machine.
"""
