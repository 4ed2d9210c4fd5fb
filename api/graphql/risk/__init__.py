"""The risk area: guarantee circles, risk rings, exposure and related-party groups."""
