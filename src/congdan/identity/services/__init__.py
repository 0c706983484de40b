"""State changes of the identity app, one function per change (DESIGN rule 1).

* ``accounts``: level-1 registration, phone verification, login steps, TOTP, password
  reset, sessions, status changes.
* ``level2``: level-2 requests and the officer's in-person verification; deactivation on
  death.
* ``clients``: relying parties, consent and its revocation, signing keys.
"""
