"""The portal's own pages around the library's views (TEST ONLY): what a team writes itself.

The library's messages ("Login to eHerkenning did not succeed…") are shown on the login-failed page;
/whoami is the harness's oracle of the session (who, for which company, with which pseudonym)."""

from django.contrib import auth, messages
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.utils.html import escape
from django.views.decorators.csrf import csrf_exempt


def _page(title: str, body: str, status: int = 200) -> HttpResponse:
    return HttpResponse(f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(title)}</title></head>"
                        f"<body><h1>{escape(title)}</h1>{body}</body></html>", status=status)


def home(request):
    return _page("django-digid-eherkenning portaal (TEST ONLY)",
                 "<p><a href='/eherkenning/login/'>Inloggen met eHerkenning</a></p>")


def logged_in(request):
    if not request.user.is_authenticated:
        return redirect("/")
    concluded = request.session.get("eh_concluded") or {}
    return _page("Ingelogd / Logged in", f"<p>Namens <b id='company'>{escape(concluded.get('company_name', ''))}</b> "
                                         f"(KvK {escape(concluded.get('kvk', ''))})</p>")


def login_failed(request):
    shown = "".join(f"<p class='error'>{escape(m)}</p>" for m in messages.get_messages(request))
    return _page("Inloggen mislukt / Login failed", shown or "<p>Log in again.</p>")


@csrf_exempt
def logout(request):
    auth.logout(request)
    return redirect("/")


def whoami(request):
    concluded = request.session.get("eh_concluded") or {} if request.user.is_authenticated else {}
    return JsonResponse({
        "logged_in": request.user.is_authenticated,
        "kvk": concluded.get("kvk") or None,
        "rsin": concluded.get("rsin") or None,
        "intermediary_kvk": (concluded.get("intermediate_kvk") or [None])[0],
        "acting_subject": concluded.get("acting_subject"),
        "company": concluded.get("company_name"),
        "level": concluded.get("level"),
    })
