"""A minimal Django project around django-digid-eherkenning, for the interop tests (TEST ONLY).

Everything it writes (sqlite database, private media with the key pair) goes to $INTEROP_WORKDIR.
"""

import os
from pathlib import Path

WORKDIR = Path(os.environ["INTEROP_WORKDIR"])

SECRET_KEY = "TEST-ONLY interop project"
DEBUG = False
ALLOWED_HOSTS = ["portal.interop.test", "testserver", "127.0.0.1"]  # 127.0.0.1: server.py

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "sessionprofile",
    "privates",
    "simple_certmanager",
    "solo",
    "digid_eherkenning",
    "dvproject",
]

MIDDLEWARE = [
    "sessionprofile.middleware.SessionProfileMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]

ROOT_URLCONF = "dvproject.urls"
TEMPLATES = [{
    "BACKEND": "django.template.backends.django.DjangoTemplates",
    "APP_DIRS": True,
    "OPTIONS": {"context_processors": ["django.template.context_processors.request",
                                       "django.contrib.auth.context_processors.auth",
                                       "django.contrib.messages.context_processors.messages"]},
}]

DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(WORKDIR / "db.sqlite3")}}
# The AuthnRequest IDs the library remembers live in the cache: share it between driver runs.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                      "LOCATION": str(WORKDIR / "cache")}}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
USE_TZ = True
TIME_ZONE = "UTC"
STATIC_URL = "/static/"

PRIVATE_MEDIA_ROOT = str(WORKDIR / "private_media")
PRIVATE_MEDIA_URL = "/protected/"
SENDFILE_ROOT = PRIVATE_MEDIA_ROOT
SENDFILE_BACKEND = "django_sendfile.backends.development"

AUTH_USER_MODEL = "dvproject.User"
AUTHENTICATION_BACKENDS = ["dvproject.backends.PortalEHerkenningBackend"]
LOGIN_URL = "/login-failed/"
LOGIN_REDIRECT_URL = "/logged-in/"
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"digid_eherkenning": {"handlers": ["console"], "level": "INFO"},
                "onelogin": {"handlers": ["console"], "level": "WARNING"},
                "django.request": {"handlers": ["console"], "level": "ERROR"}},  # a 500's traceback, in the log
}
