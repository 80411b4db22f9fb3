"""The namespace lab: FRR routers, an nftables firewall and hosts, reached over real SSH."""
