"""The monitoring app's pages: ``tasks`` (the task tracker), ``groups`` (working groups),
``paper`` (counter mode), ``dashboard`` (KPIs)."""
