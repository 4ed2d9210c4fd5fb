"""The network area: connections, paths, communities and influencers."""
