from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("pricing.api.urls")),
    path("compat/", include("pricing.compat.urls")),
    path("", include("pricing.web.urls")),
]
