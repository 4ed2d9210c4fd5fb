"""The marketing area: referral targets with their introducers, and referral paths."""
