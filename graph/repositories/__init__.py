"""One repository per aggregate; each runs its Cypher through a :class:`graph.store.GraphStore`."""
