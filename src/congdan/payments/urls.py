"""Payments URLs, mounted at /payments/."""

from django.urls import URLPattern, URLResolver, path

from congdan.payments import views

app_name = "payments"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.my_payments, name="mine"),
    path("return/", views.payment_return, name="return"),
    path("ipn/<slug:gateway>/", views.ipn, name="ipn"),
    path("sandbox/<str:txn>/", views.sandbox_bank, name="sandbox_bank"),
    path("<str:reference>/receipt/", views.receipt, name="receipt"),
]
