"""Registry events other apps subscribe to. Sent after the transaction commits."""

from django.dispatch import Signal

# kwargs: person (Person), death_date (date), actor
person_died = Signal()
# kwargs: person (Person), residence (Residence), actor
residence_changed = Signal()
