"""Traffic verification: eBPF sampler agent, sFlow v5 codec, collector and verifier."""
