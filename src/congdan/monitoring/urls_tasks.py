"""URL patterns of the task tracker, working groups and counter mode; the app's
``urls.py`` (namespace ``monitoring``) includes them."""

from __future__ import annotations

from django.urls import path

from congdan.monitoring.views import groups, paper, tasks

urlpatterns = [
    path("tasks/", tasks.task_list, name="task_list"),
    path("tasks/agencies/", tasks.agency_view, name="task_agencies"),
    path("tasks/new/", tasks.task_create, name="task_create"),
    path("tasks/import/", tasks.task_import, name="task_import"),
    path("tasks/import/template.xlsx", tasks.task_import_template, name="task_import_template"),
    path("tasks/<int:pk>/", tasks.task_detail, name="task_detail"),
    path("tasks/<int:pk>/edit/", tasks.task_edit, name="task_edit"),
    path("tasks/<int:pk>/notes/", tasks.task_note, name="task_note"),
    path("tasks/<int:pk>/evidence/", tasks.task_evidence_upload, name="task_evidence_upload"),
    path(
        "tasks/<int:pk>/evidence/<int:evidence_id>/",
        tasks.task_evidence_file,
        name="task_evidence_file",
    ),
    path("groups/", groups.group_list, name="group_list"),
    path("groups/new/", groups.group_create, name="group_create"),
    path("groups/<int:pk>/", groups.group_detail, name="group_detail"),
    path("groups/<int:pk>/edit/", groups.group_edit, name="group_edit"),
    path("groups/<int:pk>/delete/", groups.group_delete, name="group_delete"),
    path("groups/<int:pk>/members/", groups.member_add, name="group_member_add"),
    path(
        "groups/<int:pk>/members/<int:member_id>/remove/",
        groups.member_remove,
        name="group_member_remove",
    ),
    path("paper/", paper.paper_counts, name="paper_counts"),
]
