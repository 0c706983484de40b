"""Argon2id with parameters at or above OWASP's minimum (m=19 MiB, t=2, p=1).

We use m=19456 KiB, t=2, p=1 — OWASP Password Storage Cheat Sheet, first option.
"""

from django.contrib.auth.hashers import Argon2PasswordHasher


class Argon2idHasher(Argon2PasswordHasher):
    time_cost = 2
    memory_cost = 19456
    parallelism = 1
