"""Every refusal the portal gives: a stable reason code, the rule, an HTTP status, and the words in Dutch and English.

Views raise `Refused(code, action, **params)`; one error handler (app.py) writes the audit entry,
records `last_refusal` for /whoami, ends a half-made login where needed and renders the page.
"""

from __future__ import annotations

from dataclasses import dataclass, field

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
    title_nl: str
    title_en: str
    nl: str  # may hold {placeholders} filled from the refusal's params
    en: str
    ends_login: bool = False  # a refusal at login time: no session afterwards
    session: bool = True  # recorded as last_refusal in the session; False: the session is left as it was


_R = [
    Reason("authn_failed", "P11", 401, "Inloggen afgebroken of mislukt", "Login cancelled or failed",
           "Het inloggen bij eHerkenning is afgebroken of mislukt. U bent niet ingelogd. " + SUPPLIER[0] + " " + EH3[0],
           "Logging in with eHerkenning was cancelled or failed. You are not logged in. " + SUPPLIER[1] + " " + EH3[1],
           ends_login=True),
    Reason("no_mandate", "P12", 403, "Geen machtiging voor het werkgeversportaal", "No mandate for the employer portal",
           "eHerkenning meldt dat u niet gemachtigd bent voor een dienst van het werkgeversportaal. " + SERVICES[0],
           "eHerkenning reports that you hold no mandate for a service of the employer portal. " + SERVICES[1],
           ends_login=True),
    Reason("level_too_low", "P2", 403, "Betrouwbaarheidsniveau te laag", "Level of assurance too low",
           "U logde in met niveau {level}. " + EH3[0] + " Vraag een persoonlijk eHerkenningmiddel met niveau EH3 aan "
           "bij uw eHerkenning leverancier.",
           "You logged in at level {level}. " + EH3[1] + " Get a personal EH3 means from your eHerkenning supplier.",
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
    Reason("security_check_failed", "security", 400, "Antwoord van eHerkenning geweigerd",
           "Answer from eHerkenning refused",
           "Het antwoord van eHerkenning is niet geaccepteerd: de veiligheidscontrole '{check}' is mislukt. U bent niet "
           "ingelogd. Probeer opnieuw in te loggen; gebeurt dit weer, neem dan contact op met uw relatiebeheerder en "
           "noem de code en de controle.",
           "The answer from eHerkenning was not accepted: the security check '{check}' failed. You are not logged in. "
           "Try logging in again; if it happens again, contact your relationship manager and quote the code and the "
           "check.", ends_login=True),
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
REASONS: dict[str, Reason] = {r.code: r for r in _R}


class _Blank(dict):
    def __missing__(self, key):
        return "?"


@dataclass(eq=False)
class Refused(Exception):
    """Raised by a view: the request is refused with `code`; `params` fill the texts."""

    code: str
    action: str
    params: dict = field(default_factory=dict)
    detail: str | None = None  # for the audit trail and the page (e.g. the failed check explained)
    audit_subject: dict | None = None  # acting_subject / represented_kvk / intermediary_kvk, if not the session's

    def __post_init__(self):
        if self.code not in REASONS:
            raise ValueError(f"unknown refusal code {self.code!r}")
        super().__init__(self.code)

    @property
    def reason(self) -> Reason:
        return REASONS[self.code]

    def text_nl(self) -> str:
        return self.reason.nl.format_map(_Blank(self.params))

    def text_en(self) -> str:
        return self.reason.en.format_map(_Blank(self.params))
