"""Payment events other apps subscribe to (the procedures app moves its dossiers).

* ``payment_paid(sender=Payment, payment=...)`` is sent **inside** the transaction that
  marks the payment paid, synchronously: a receiver's change (a dossier leaving "awaiting
  payment") commits with the payment, and a receiver that raises rolls the payment back
  to pending (the next callback, IPN or ``payments_expire`` run tries again). Receivers
  must be idempotent: a payment paid late (after it expired) is announced too.
* ``payment_failed(sender=Payment, payment=...)`` after the transaction commits, when a
  payment ends failed, cancelled or expired (``payment.status`` says which).
* ``payment_refunded(sender=Payment, payment=..., actor=...)`` after the refund commits.
"""

from django.dispatch import Signal

payment_paid = Signal()
payment_failed = Signal()
payment_refunded = Signal()
