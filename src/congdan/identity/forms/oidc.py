"""Forms of the OpenID Connect pages."""

from __future__ import annotations

from django import forms
from oauth2_provider.forms import AllowForm


class ConsentForm(AllowForm):
    """DOT's authorize form (hidden request fields + ``allow``) with ``acr_values``, so
    the level the client asked for is checked again when the citizen answers."""

    acr_values = forms.CharField(required=False, widget=forms.HiddenInput())
