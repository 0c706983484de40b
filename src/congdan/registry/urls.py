from django.urls import path

from congdan.registry import views

app_name = "registry"
urlpatterns = [
    path("", views.search, name="search"),
    path("person/<str:id_number>/", views.person, name="person"),
    path(
        "person/<str:id_number>/temporary-residence/",
        views.temporary_residence,
        name="temporary_residence",
    ),
    path("person/<str:id_number>/death/", views.record_death, name="record_death"),
    path("household/<str:code>/move/", views.move_household, name="move_household"),
]
