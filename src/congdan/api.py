"""The REST API (django-ninja): one NinjaAPI, routers per app."""

from ninja import NinjaAPI

api = NinjaAPI(title="congdan API", version="1", urls_namespace="api")
