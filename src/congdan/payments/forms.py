"""Forms of the payments app: the sandbox bank's card choice."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from congdan.payments.gateways.sandbox import TEST_CARDS


def _card_choices() -> list[tuple[str, str]]:
    # Called on each use, so each card's label is in the request's language.
    return [
        (card.number, f"{card.number[:4]} •••• {card.number[-4:]} — {card.label}")
        for card in TEST_CARDS
    ]


class SandboxPayForm(forms.Form):
    card = forms.ChoiceField(
        label=_("Thẻ thanh toán"),
        choices=_card_choices,
        initial=TEST_CARDS[0].number,
        widget=forms.RadioSelect,
    )
