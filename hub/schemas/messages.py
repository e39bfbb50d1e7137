"""The Danish text of every refusal code: what a school's or a partner's administrative staff
read on a receipt or an HTTP answer when the hub did not take what their system sent.

One table keyed by the stable code (the English message stays beside it, written where the
refusal is made). The texts say what was wrong and what to do, in plain Danish, without the
technical detail a developer finds in the English message and its `errors`.
`tests/unit/test_messages.py` checks that every code the parser, the pipeline, the policy and
the HTTP API can give has a text here.
"""

from __future__ import annotations

_ASK_IT = "Kontakt den, der driver jeres it-system."
_FORMAT = "Indberetningen kunne ikke læses, fordi den ikke er sendt i det aftalte format. " + _ASK_IT

DANISH: dict[str, str] = {
    # The entry or body as a whole
    "missing_event_field": _FORMAT,
    "extra_fields": _FORMAT,
    "unsupported_media_type": _FORMAT,
    "not_utf8": "Indberetningen indeholder tegn, der ikke kan læses. " + _ASK_IT,
    "invalid_json": _FORMAT,
    "duplicate_key": "Indberetningen indeholder det samme felt to gange, så det er uklart, hvad der gælder. " + _ASK_IT,
    "too_large": "Indberetningen er for stor til at blive modtaget. Skær den fritekst ned, der er skrevet, "
    "og send den igen.",
    "too_deep": _FORMAT,
    "number_too_large": "Indberetningen indeholder et tal, der er for langt. " + _ASK_IT,
    "string_too_long": "Et af felterne i indberetningen er for langt. Skær teksten ned og send den igen.",
    "too_many_members": "Indberetningen indeholder for mange felter eller punkter. " + _ASK_IT,
    "control_character": "Indberetningen indeholder et usynligt styretegn, som ikke er tilladt. "
    "Skriv teksten igen uden at kopiere den ind, eller kontakt den, der driver jeres it-system.",
    # The CloudEvent and its content
    "invalid_envelope": _FORMAT,
    "invalid_report": "Indberetningen mangler oplysninger eller har et felt udfyldt forkert. "
    "Ret de felter, der er nævnt, og send den igen.",
    "invalid_staff_action": "Handlingen (kvittering eller tilbagemelding) mangler oplysninger eller har et felt "
    "udfyldt forkert. Ret den og send den igen.",
    "invalid_decision": "Beslutningen mangler oplysninger eller har et felt udfyldt forkert. "
    "Ret de felter, der er nævnt, og send den igen.",
    "time_out_of_range": "Et tidspunkt eller en dato i indberetningen ligger uden for det, der er muligt "
    "(for langt tilbage eller ude i fremtiden). Ret datoen og send indberetningen igen.",
    "source_mismatch": "Indberetningen er sendt i en anden afsenders navn end jeres. Et system må kun sende "
    "i sit eget navn. " + _ASK_IT,
    "unknown_type": "Hubben modtager ikke denne slags meddelelse her. " + _ASK_IT,
    "unknown_source": "Afsenderen er ikke oprettet i hubben, så meddelelsen kan ikke modtages. "
    "Kontakt kriminalpræventiv enhed.",
    # Decisions
    "unknown_decision_source": "Denne afsender må ikke træffe beslutninger om henvisning.",
    "unknown_report": "Der findes ingen indberetning med denne reference. Tjek referencen.",
    "already_decided": "Sagen er allerede afgjort. En ny afgørelse skal være en revision med en begrundelse.",
    "already_acknowledged": "Indberetteren har allerede fået en kvittering for denne underretning.",
    "feedback_not_professional": "Indberetteren er ikke fagperson i offentlig tjeneste. En privat indberetter "
    "får kvittering, men ingen tilbagemelding om sagens videre forløb.",
    "feedback_before_decision": "Sagen er ikke afgjort endnu. Giv tilbagemelding, når der er truffet en afgørelse.",
    "unknown_reporter_source": "Indberetterens kilde findes ikke længere i kilderegisteret, så der kan ikke "
    "sendes noget til indberetteren. Kontakt driften.",
    "unknown_partner": "Beslutningen henviser til en samarbejdspartner, som hubben ikke kender. "
    "Tjek modtagerne og send beslutningen igen.",
    # Meetings by level (Niveau I koordinationsmøde, II sagsmøde, III Operativgruppen)
    "meeting_not_member": "Mødet indkalder en samarbejdspartner, som ikke er med i mødet på sagens niveau. "
    "Vælg kun blandt mødets medlemmer og afgør sagen igen.",
    "meeting_nobody": "Mødet indkalder ingen. På niveau III vælger DKE, hvilke medlemmer af Operativgruppen "
    "der indkaldes: vælg mindst ét medlem og afgør sagen igen.",
    "meeting_structure_unclear": "Det fremgår ikke, i hvilket samarbejde (SSP, PSP eller KSP) mødet deler "
    "oplysninger om sagen. Vælg samarbejdet for mødet og afgør sagen igen.",
    # A person's answers to the questions the policy escalated (issue #18 point 7)
    "unasked_question": "Et svar gælder et spørgsmål, som ingen af modtagerne stiller (eller er givet to gange). "
    "Forhåndsvis afgørelsen og besvar de spørgsmål, der vises.",
    "invalid_answer": "Et svar er ikke et af de tilladte svar på spørgsmålet. Vælg et af svarene og send igen.",
    "answer_reason_missing": "Et svar mangler en begrundelse, eller begrundelsen er for kort. Skriv, hvorfor du "
    "svarer sådan, og send igen.",
    # A partner's updates on referrals and police alerts (`hub.referral-updates.<partner>.v1`)
    "invalid_update": "Opdateringen mangler oplysninger eller har et felt udfyldt forkert (fx en årsag eller et "
    "resultat, der ikke er på listen). Ret de felter, der er nævnt, og send den igen.",
    "unknown_referral": "Der er ikke sendt nogen henvisning med dette id. Brug id'et fra den henvisning, "
    "I modtog, og send opdateringen igen.",
    "unknown_alert": "Der er ikke sendt nogen underretning efter straffelovens § 141 med dette id. Brug id'et fra "
    "den underretning, I modtog, og send kvitteringen igen.",
    "not_your_referral": "Henvisningen er sendt til en anden samarbejdspartner. I kan kun opdatere det, I selv "
    "har modtaget. Opdateringen er ikke registreret.",
    "invalid_transition": "Opdateringen passer ikke med henvisningens status: en status kan kun registreres én "
    "gang og kun fremad (modtaget, derefter accepteret eller afvist, og kun en accepteret henvisning kan "
    "afsluttes). Opdateringen er ikke registreret.",
    # The law
    "unlawful_purpose": "Indberetningen blev afvist, fordi loven ikke giver adgang til at dele oplysningerne "
    "til det angivne formål.",
    "unknown_offence": "Indberetningen blev afvist, fordi den planlagte forbrydelse ikke findes på listen "
    "over forbrydelser efter straffelovens § 141. Vælg en forbrydelse fra listen og send indberetningen "
    "igen; er det noget andet farligt, der er planlagt, så send den uden forbrydelse og markér den som "
    "planlagt fare. Haster det, så ring til politiet på 112.",
    # Failures the sender cannot fix alone
    "processing_failed": "Indberetningen kunne ikke behandles på grund af en fejl i hubben. Den er gemt, "
    "og kriminalpræventiv enhed undersøger sagen. Send den ikke igen.",
    "max_deliveries": "Indberetningen kunne ikke behandles på grund af en fejl i hubben. Den er gemt, "
    "og kriminalpræventiv enhed undersøger sagen. Send den ikke igen.",
    # The HTTP API's answers that concern no body (401, 404, 503).
    "unauthorized": "Afsenderen kunne ikke genkendes: adgangsnøglen mangler, er forkert, udløbet eller "
    "tilbagekaldt. Indberetningen er ikke modtaget. " + _ASK_IT,
    "not_found": "Der er endnu ingen kvittering for denne reference. Indberetningen er måske ikke behandlet "
    "endnu, så prøv igen om lidt, og tjek referencen.",
    "unavailable": "Hubben kan ikke svare lige nu, og intet er modtaget fra dette forsøg. Prøv igen om lidt; "
    "fortsætter det, så kontakt kriminalpræventiv enhed.",
}

_FALLBACK = "Meddelelsen blev afvist. " + _ASK_IT


def danish(code: str, reason_da: str | None = None) -> str:
    """The Danish text of a refusal `code`; a policy refusal adds the rule's own Danish reason."""
    text = DANISH.get(code, _FALLBACK)
    return f"{text} {reason_da}" if reason_da else text
