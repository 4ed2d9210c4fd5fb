"""The campaign area: campaigns, list versions, suppressions and exports (issue 12)."""
