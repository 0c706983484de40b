"""Counter mode (``/monitoring/paper/``): an officer at a commune's one-stop counter
records how many dossiers were received on paper per day and procedure, and sees their
agency's counts of the last 30 days. ``Perm.PAPER_COUNT_RECORD``; an officer of an agency
that is not a commune's is refused (403)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from congdan.core.errors import PermissionDenied
from congdan.core.permissions import Perm
from congdan.core.web import permission_required_view, submit_form
from congdan.monitoring.services import paper as paper_services


class PaperCountForm(forms.Form):
    day = forms.DateField(
        label=gettext_lazy("Ngày tiếp nhận"),
        input_formats=["%Y-%m-%d", "%d/%m/%Y"],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    procedure_code = forms.ChoiceField(label=gettext_lazy("Thủ tục"))
    count = forms.IntegerField(
        label=gettext_lazy("Số hồ sơ giấy"), min_value=0, max_value=paper_services.MAX_COUNT
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["procedure_code"]
        assert isinstance(field, forms.ChoiceField)  # noqa: S101 -- declared above
        field.choices = paper_services.procedure_choices()


@require_http_methods(["GET", "POST"])
@permission_required_view(Perm.PAPER_COUNT_RECORD)
def paper_counts(request: HttpRequest) -> HttpResponse:
    commune = paper_services.counter_commune(request.user)
    if commune is None:
        raise PermissionDenied(
            _("Chỉ cán bộ bộ phận một cửa của cơ quan cấp xã được ghi số hồ sơ giấy."),
            code="not_commune_counter",
        )
    form = PaperCountForm(request.POST or None, initial={"day": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        done = submit_form(
            form,
            lambda: paper_services.record_paper_count(
                request.user,
                day=data["day"],
                procedure_code=data["procedure_code"],
                count=data["count"],
            ),
        )
        if done is not None:
            messages.success(request, _("Đã ghi số hồ sơ giấy."))
            return redirect("monitoring:paper_counts")
    names = dict(paper_services.procedure_choices())
    counts = list(paper_services.recent_counts(request.user))
    rows = [
        {"row": row, "procedure": names.get(row.procedure_code, row.procedure_code)}
        for row in counts
    ]
    return render(
        request,
        "monitoring/paper/counts.html",
        {
            "form": form,
            "rows": rows,
            "total": sum(row.count for row in counts),
            "commune": commune,
            "days": paper_services.LIST_DAYS,
        },
        status=400 if request.method == "POST" else 200,
    )
