"""State changes of the exchange app (one function per change: actor, check, lock, write, audit)."""
