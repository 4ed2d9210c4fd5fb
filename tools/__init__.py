"""Developer and pipeline tools that are not part of the product (``make audit``)."""
