"""The API's security building blocks: who calls (``auth``), what they see (``masking``), and
how much a GraphQL document may ask for before any resolver runs (``limits``)."""
