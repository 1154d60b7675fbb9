"""Every refusal the portal gives: a stable reason code, the rule, an HTTP status, and the words in Dutch and English.

Views raise `Refused(code, action, **params)`; one error handler (app.py) writes the audit entry,
records `last_refusal` for /whoami, ends a half-made login where needed and renders the page. Each page
says the cause first (its title), then what to do. One code may have several causes, each its own page:
`authn_failed` (the broker's AuthnFailed) is a level too low, a cancel, or neither, as the broker's
StatusMessage tells (`authn_failed_cause`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ehsaml.eherkenning import Level

SUPPLIER = ("Bent u uw gebruikersnaam vergeten? Vraag die op bij uw eHerkenning leverancier of bij de beheerder van "
            "eHerkenning binnen uw organisatie. Wachtwoord vergeten? Vraag in het schermdialoog van eHerkenning via "
            "'wachtwoord vergeten' een nieuw wachtwoord aan bij uw eHerkenning leverancier.",
            "Forgot your username? Ask your eHerkenning supplier or the eHerkenning administrator in your "
            "organisation. Forgot your password? Use 'forgot password' in the eHerkenning dialogue to get a new one "
            "from your eHerkenning supplier.")
EH3 = ("Voor het werkgeversportaal heeft u een persoonlijk eHerkenningmiddel met niveau EH3 nodig (EH4 mag ook).",
       "The employer portal needs a personal eHerkenning means of level EH3 (EH4 is accepted too).")
RELATIEBEHEERDER = ("Zorg ervoor dat u weet voor welke KvK-nummers u gemachtigd bent en neem dan contact op met uw "
                    "relatiebeheerder.",
                    "Make sure you know which KvK numbers you hold a mandate for, then contact your relationship "
                    "manager (relatiebeheerder).")
SERVICES = ("De machtigingenbeheerder van uw organisatie moet de dienst 'Bekijk gegevens' of 'Bekijk en wijzig "
            "gegevens' via het beheerportaal van uw eHerkenning leverancier aan uw eHerkenningmiddel toevoegen. "
            "Controleer ook of u gemachtigd bent voor alle KvK-nummers waarvoor u wilt inloggen.",
            "The mandate administrator (machtigingenbeheerder) of your organisation must add the service 'Bekijk "
            "gegevens' (view) or 'Bekijk en wijzig gegevens' (view and change) to your eHerkenning means in your "
            "supplier's management portal. Also check that you hold a mandate for every KvK number you log in for.")


@dataclass(frozen=True)
class Reason:
    code: str
    rule: str  # the FAQ rule (P1–P12) or "security"/"input"
    http_status: int
    title_nl: str  # the cause, first thing on the page
    title_en: str
    nl: str  # may hold {placeholders} filled from the refusal's params
    en: str
    ends_login: bool = False  # a refusal at login time: no session afterwards
    session: bool = True  # recorded as last_refusal in the session; False: the session is left as it was
    cause: str | None = None  # one of several pages of the same code (None: the code's own)


_LEVEL_NL = ("Voor het werkgeversportaal heeft u een persoonlijk eHerkenningmiddel met niveau EH3 nodig (EH4 mag ook). "
             "Vraag een eHerkenningmiddel met niveau EH3 aan bij uw eHerkenning leverancier. U bent niet ingelogd.")
_LEVEL_EN = ("The employer portal needs a personal eHerkenning means of level EH3 (EH4 is accepted too). Get an EH3 "
             "means from your eHerkenning supplier. You are not logged in.")

_R = [
    Reason("authn_failed", "P11", 401, "Inloggen bij eHerkenning mislukt", "Logging in with eHerkenning failed",
           "eHerkenning meldt dat het inloggen is mislukt of afgebroken. U bent niet ingelogd. " + SUPPLIER[0] + " "
           + EH3[0],
           "eHerkenning reports that logging in failed or was cancelled. You are not logged in. " + SUPPLIER[1] + " "
           + EH3[1], ends_login=True),
    Reason("authn_failed", "P11", 401, "Inloggen afgebroken", "Login cancelled",
           "U heeft het inloggen bij eHerkenning afgebroken. U bent niet ingelogd; begin opnieuw om in te loggen. "
           + SUPPLIER[0],
           "You cancelled logging in with eHerkenning. You are not logged in; start again to log in. " + SUPPLIER[1],
           ends_login=True, cause="cancelled"),
    Reason("authn_failed", "P2", 401, "EH3 nodig", "EH3 needed",
           "Uw eHerkenningmiddel heeft niveau {level}; dat is te laag. " + _LEVEL_NL,
           "Your eHerkenning means is level {level}, which is too low. " + _LEVEL_EN,
           ends_login=True, cause="level"),
    Reason("level_too_low", "P2", 403, "EH3 nodig", "EH3 needed",
           "U logde in met niveau {level}; dat is te laag. " + _LEVEL_NL,
           "You logged in at level {level}, which is too low. " + _LEVEL_EN, ends_login=True),
    Reason("no_mandate", "P12", 403, "Geen machtiging voor deze dienst", "No mandate for this service",
           "eHerkenning meldt dat u niet gemachtigd bent voor de dienst waarmee u inlogde. " + SERVICES[0],
           "eHerkenning reports that you hold no mandate for the service you logged in with. " + SERVICES[1],
           ends_login=True),
    Reason("kvk_unknown", "P4", 403, "KvK-nummer niet bekend", "KvK number not known",
           "Het KvK-nummer {kvk} waarmee u inlogt is niet bekend bij het werkgeversportaal. " + RELATIEBEHEERDER[0],
           "The KvK number {kvk} you log in with is not known to the employer portal. " + RELATIEBEHEERDER[1],
           ends_login=True),
    Reason("eidas_no_kvk", "P4", 403, "Organisatie zonder KvK-nummer", "Organisation without a KvK number",
           "U logt in voor een buitenlandse organisatie (eIDAS: {eidas}) zonder KvK-nummer. Het werkgeversportaal kent "
           "alleen werkgevers met een KvK-nummer in een pensioencontract. Neem contact op met uw relatiebeheerder.",
           "You log in for a foreign organisation (eIDAS: {eidas}) without a KvK number. The employer portal knows only "
           "employers with a KvK number in a pension contract. Contact your relationship manager.",
           ends_login=True),
    Reason("no_confirmed_grant", "P7", 403, "Geen werkgever om te selecteren", "No employer to select",
           "U logt in als adviseur met KvK-nummer {kvk}, maar geen werkgever heeft dit KvK-nummer (bevestigd) toegang "
           "verleend. Dat kan twee oorzaken hebben: 1) uw relatie heeft u (nog) geen toegang verleend, of heeft de "
           "toegang nog niet bevestigd via de link in de bevestigingsmail; 2) uw relatie heeft toegang verleend aan "
           "een ander KvK-nummer dan het KvK-nummer waarmee u inlogt. Vraag uw relatie dit na te gaan.",
           "You log in as an advisor with KvK number {kvk}, but no employer has granted this KvK number (confirmed) "
           "access. Two causes are possible: 1) your client has not granted access yet, or has not confirmed it with "
           "the link in the confirmation e-mail; 2) your client granted access to another KvK number than the one "
           "you log in with. Ask your client to check.", ends_login=True),
    Reason("security_check_failed", "security", 400, "Antwoord van eHerkenning niet vertrouwd",
           "Answer from eHerkenning not trusted",
           "Het antwoord van eHerkenning kwam niet door de veiligheidscontrole van het werkgeversportaal, dus u bent "
           "niet ingelogd. Probeer opnieuw in te loggen. Gebeurt dit weer? Neem dan contact op met uw "
           "relatiebeheerder en noem de referentie onder 'Voor de helpdesk'.",
           "The answer from eHerkenning did not pass the employer portal's security check, so you are not logged in. "
           "Try logging in again. If it happens again, contact your relationship manager and quote the reference "
           "under 'For the help desk'.", ends_login=True),
    Reason("broker_error", "P11", 403, "Foutmelding van eHerkenning", "Error from eHerkenning",
           "eHerkenning gaf een foutmelding ({status}). U bent niet ingelogd. Probeer het later opnieuw.",
           "eHerkenning answered with an error ({status}). You are not logged in. Please try again later.",
           ends_login=True),
    Reason("broker_unreachable", "P11", 503, "eHerkenning niet bereikbaar", "eHerkenning not reachable",
           "De gegevens van eHerkenning (de makelaar) konden niet worden opgehaald. Probeer het later opnieuw.",
           "The broker's metadata could not be fetched. Please try again later.", ends_login=True),
    Reason("legacy_login_gone", "P1", 410, "Inloggen met gebruikersnaam en wachtwoord kan niet meer",
           "Username and password login is gone",
           "Inloggen met uw 'oude' gebruikersnaam en wachtwoord is niet meer mogelijk. Vanaf 14 september kunt u alleen "
           "nog inloggen met een persoonlijk eHerkenningmiddel (EH3).",
           "Logging in with your old username and password is no longer possible. Since 14 September you can only "
           "log in with a personal eHerkenning means (EH3).", ends_login=True),
    Reason("not_logged_in", "P1", 401, "Niet ingelogd", "Not logged in",
           "U bent niet ingelogd. Log in met eHerkenning.", "You are not logged in. Log in with eHerkenning."),
    Reason("no_change_rights", "P3", 403, "Onvoldoende rechten om te wijzigen", "Not allowed to change data",
           "U heeft onvoldoende rechten om gegevens te wijzigen. Bent u werkgever of een adviseur met een "
           "ketenmachtiging? Dan moet de dienst 'Bekijk en wijzig gegevens' aan uw eHerkenningmiddel worden "
           "toegevoegd. Bent u een adviseur en logt u in zonder ketenmachtiging? Dan kan de werkgever in het "
           "werkgeversportaal uw toegangsrechten wijzigen van 'bekijk gegevens' naar 'bekijk en wijzig gegevens'.",
           "You are not allowed to change data. Employer, or advisor with a chain mandate: the service 'Bekijk en "
           "wijzig gegevens' must be added to your eHerkenning means. Advisor without a chain mandate: the employer "
           "can change your access in the portal from 'view' to 'view and change'."),
    Reason("grant_needs_edit_rights", "P6", 403, "Toegang verlenen niet toegestaan", "Granting access not allowed",
           "Alleen een werkgever die is ingelogd met de dienst 'Bekijk en wijzig gegevens' kan een adviseur toegang "
           "verlenen of toegangsrechten wijzigen.",
           "Only an employer logged in with the service 'Bekijk en wijzig gegevens' (view and change) can grant an "
           "advisor access or change its rights."),
    Reason("advisor_unknown", "P6", 403, "KvK-nummer adviseur niet herkend", "Advisor's KvK number not recognised",
           "Het KvK-nummer {kvk} wordt niet herkend als adviseur. Neem contact op met uw relatiebeheerder zodat we de "
           "adviseur aan de lijst kunnen toevoegen. Het is mogelijk dat een adviseur bij ons nog niet bekend is; wij "
           "controleren of de adviseur de juiste vergunningen heeft.",
           "The KvK number {kvk} is not recognised as an advisor. Contact your relationship manager so the advisor "
           "can be added to the list. The advisor may not be known to us yet; we check that advisors hold the right "
           "licences."),
    Reason("grant_exists", "P6", 409, "Toegang bestaat al", "Access exists already",
           "Adviseur {kvk} heeft al toegang (of een aanvraag die nog bevestigd moet worden). Wijzig de rechten in de "
           "lijst, of bevestig de aanvraag via de link in de e-mail.",
           "Advisor {kvk} has access already (or a request awaiting confirmation). Change its rights in the list, or "
           "confirm the request with the link in the e-mail."),
    Reason("kvk_invalid", "input", 400, "Ongeldig KvK-nummer", "Invalid KvK number",
           "'{value}' is geen geldig KvK-nummer. Een KvK-nummer bestaat uit precies 8 cijfers.",
           "'{value}' is not a valid KvK number. A KvK number has exactly 8 digits."),
    Reason("input_invalid", "input", 400, "Ongeldige invoer", "Invalid input",
           "Het veld '{field}' is ongeldig: {problem_nl}.", "The field '{field}' is invalid: {problem_en}."),
    Reason("kvk_not_in_contract", "P9", 403, "KvK-nummer niet herkend", "KvK number not recognised",
           "Het KvK-nummer {kvk} staat niet in uw pensioencontract. Controleer of het KvK-nummer binnen uw "
           "pensioencontract aanwezig is. Zo niet, dan moet een wijziging van het KvK-nummer plaatsvinden. Anders kan "
           "aan het KvK-nummer helaas geen toegang gegeven worden.",
           "The KvK number {kvk} is not in your pension contract. Check whether the KvK number is part of your "
           "pension contract. If not, the contract must be changed first; otherwise no access can be given to it."),
    Reason("confirm_link_invalid", "P6", 404, "Bevestigingslink ongeldig", "Confirmation link invalid",
           "Deze bevestigingslink is niet geldig of is al gebruikt. Er is niets gewijzigd.",
           "This confirmation link is not valid or has been used already. Nothing was changed."),
    Reason("confirm_link_expired", "P6", 410, "Bevestigingslink verlopen", "Confirmation link expired",
           "Deze bevestigingslink is verlopen. Verleen de toegang opnieuw.",
           "This confirmation link has expired. Grant the access again."),
    Reason("employer_not_selectable", "P7", 403, "Werkgever niet te selecteren", "Employer cannot be selected",
           "U kunt werkgever {kvk} niet selecteren: die heeft uw KvK-nummer geen bevestigde toegang verleend.",
           "You cannot select employer {kvk}: it has not granted your KvK number confirmed access."),
    Reason("csrf_invalid", "security", 403, "Formulier niet geaccepteerd", "Form not accepted",
           "Dit formulier is niet verstuurd vanaf een pagina van het werkgeversportaal in deze sessie (het "
           "CSRF-token ontbreekt of klopt niet). Er is niets gewijzigd. Open de pagina opnieuw en probeer het nog eens.",
           "This form was not sent from a page of the employer portal in this session (its CSRF token is missing "
           "or wrong). Nothing was changed. Open the page again and retry.", session=False),
    Reason("cross_site_request", "security", 403, "Verzoek van een andere website geweigerd",
           "Request from another site refused",
           "Dit verzoek komt niet van een pagina van het werkgeversportaal en is geweigerd. Er is niets gewijzigd.",
           "This request does not come from a page of the employer portal and was refused ({why}). Nothing was "
           "changed.", session=False),
    Reason("host_invalid", "security", 400, "Onbekend adres", "Unknown address",
           "Het werkgeversportaal is niet bereikbaar onder deze naam. Er is niets gewijzigd.",
           "The employer portal is not reached by this name ({why}). Nothing was changed.", session=False),
    Reason("not_found", "input", 404, "Niet gevonden", "Not found",
           "{what_nl} bestaat niet of hoort niet bij deze werkgever.", "{what_en} does not exist or is not this "
           "employer's."),
]
REASONS: dict[tuple[str, str | None], Reason] = {(r.code, r.cause): r for r in _R}
CODES = frozenset(r.code for r in _R)

_LEVEL_TOKEN = re.compile(r"\bEH ?(1|2 ?\+|2 ?plus|2|3|4)(?![0-9])", re.IGNORECASE)
_CANCEL = re.compile(r"cancel|annul|afgebroken|aborted", re.IGNORECASE)


def authn_failed_cause(message: str | None, min_level: Level = Level.EH3) -> tuple[str | None, dict]:
    """Which page an AuthnFailed gets, from the broker's StatusMessage: ("level", {"level": ...}) when it names a
    level below the portal's minimum, ("cancelled", {}) when it says the user cancelled, else (None, {}).

    The scheme gives the same status for both (the broker shows the level to the user and then answers
    AuthnFailed); only its message tells them apart, and a message the portal cannot read gets the page that
    names both causes."""
    levels = []
    for token in _LEVEL_TOKEN.findall(message or ""):
        try:
            levels.append(Level.parse("EH" + token.replace(" ", "").replace("plus", "+")))
        except ValueError:
            continue
    low = [lv for lv in levels if lv < min_level]
    if low:
        return "level", {"level": min(low).label}
    if _CANCEL.search(message or ""):
        return "cancelled", {}
    return None, {}


class _Blank(dict):
    def __missing__(self, key):
        return "?"


@dataclass(eq=False)
class Refused(Exception):
    """Raised by a view: the request is refused with `code` (and `cause`, for a code with several pages); `params`
    fill the texts."""

    code: str
    action: str
    params: dict = field(default_factory=dict)
    detail: str | None = None  # for the audit trail and the help-desk part of the page (e.g. the failed check)
    audit_subject: dict | None = None  # acting_subject / represented_kvk / intermediary_kvk, if not the session's
    cause: str | None = None

    def __post_init__(self):
        if self.code not in CODES:
            raise ValueError(f"unknown refusal code {self.code!r}")
        if (self.code, self.cause) not in REASONS:
            raise ValueError(f"refusal code {self.code!r} has no page for cause {self.cause!r}")
        super().__init__(self.code)

    @property
    def reason(self) -> Reason:
        return REASONS[(self.code, self.cause)]

    def text_nl(self) -> str:
        return self.reason.nl.format_map(_Blank(self.params))

    def text_en(self) -> str:
        return self.reason.en.format_map(_Blank(self.params))

    def to_session(self, ref: int | None) -> dict:
        """What the session keeps of it: /whoami's last_refusal, and enough to show the page again (/melding)."""
        return {"code": self.code, "cause": self.cause, "rule": self.reason.rule, "reason": self.text_nl(),
                "reason_en": self.text_en(), "check": self.params.get("check"),
                "detail": (self.detail or "")[:500] or None, "action": self.action, "ref": ref,
                "params": {k: str(v)[:300] for k, v in self.params.items()}}

    @classmethod
    def from_session(cls, data: dict) -> "Refused | None":
        try:
            return cls(data["code"], data.get("action") or "login", dict(data.get("params") or {}),
                       detail=data.get("detail"), cause=data.get("cause"))
        except (KeyError, TypeError, ValueError):
            return None
