"""The explorer area: the page's own root fields (laid-out views, expansions, the ties of a
path, risk-linkage drawings), each built from a typed read model."""
