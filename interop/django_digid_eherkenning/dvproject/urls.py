from django.urls import include, path

from . import views

urlpatterns = [
    path("", include("digid_eherkenning.urls")),  # /eherkenning/login/, /eherkenning/acs/, /metadata/...
    path("", views.home),
    path("logged-in/", views.logged_in),  # LOGIN_REDIRECT_URL
    path("login-failed/", views.login_failed),  # LOGIN_URL: where the library sends a failed login, with a message
    path("logout/", views.logout),
    path("whoami", views.whoami),
]
