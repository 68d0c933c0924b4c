"""The completeness reward: a whole story of the asked-for length, without padding or junk."""
