from django.http import HttpResponse
from django.urls import include, path

urlpatterns = [
    path("", include("digid_eherkenning.urls")),  # /eherkenning/login/, /eherkenning/acs/, /metadata/...
    path("logged-in/", lambda request: HttpResponse("logged in")),
    path("login-failed/", lambda request: HttpResponse("login failed")),
]
