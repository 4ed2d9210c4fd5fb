"""What every area shares: the customer 360 type, masked values, money, pages and cursors, and
the one helper that loads customers in order."""
