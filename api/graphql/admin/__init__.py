"""The admin area: who you are, algorithm runs and jobs, and the upserts."""
