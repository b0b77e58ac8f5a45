"""The "How to refer us" card: what a referrer reads (the criteria in plain
words, why our customers value us) and the introduction email they copy.

Pure functions: the views read the criteria and statements through
referrals.selectors and hand them here.
"""

import re

# A criterion is a yes/no question or a fragment ("Has a need this year").
# A question is turned round only when its subject is certain: a pronoun, or
# "the" and one of these nouns. Any other question reads as written: a wrong
# sentence is worse than a question.
PRONOUNS = ("they", "you", "we", "he", "she", "it", "there")
NOUNS = (
    "prospect",
    "person",
    "contact",
    "company",
    "client",
    "customer",
    "business",
    "firm",
    "organisation",
    "organization",
    "buyer",
    "referral",
)
# Auxiliaries that stay as they are, after the subject ("Is there…" → "There is…").
AUXILIARIES = (
    "is",
    "are",
    "was",
    "were",
    "has",
    "have",
    "can",
    "will",
    "would",
    "could",
    "should",
)
_SUBJECT = rf"(?P<subject>{'|'.join(PRONOUNS)}|the (?:{'|'.join(NOUNS)}))"
_AUX_QUESTION = re.compile(
    rf"^(?P<aux>{'|'.join(AUXILIARIES)}) {_SUBJECT} (?P<rest>.+?)\s*\?$", re.I
)
# "Do they have…" → "They have…"; "Does the company have…" → "The company has…".
_DO_QUESTION = re.compile(
    rf"^(?P<aux>do|does) {_SUBJECT} (?P<verb>[a-z]+)(?P<rest>.*?)\s*\?$", re.I
)
IRREGULAR = {"have": "has", "be": "is", "do": "does", "go": "goes"}


def plain_sentence(question: str) -> str:
    """A criterion as an item of the checklist "A great introduction…":

    1. "Is the prospect the decision maker?" → "The prospect is the decision
       maker"; "Are there…" → "There are…", and so for each of AUXILIARIES.
    2. "Do they have a budget?" → "They have a budget"; "Does the company
       have…" → "The company has…".
    3. Anything else as written (a fragment, or a question whose subject is
       not certain), with its first letter capitalised.
    """
    text = " ".join(question.split())
    if match := _AUX_QUESTION.match(text):
        subject, aux, rest = match["subject"], match["aux"].lower(), match["rest"]
        return f"{_capitalised(subject)} {aux} {rest}"
    if match := _DO_QUESTION.match(text):
        subject, verb = match["subject"], match["verb"]
        if match["aux"].lower() == "does":
            verb = _third_person(verb)
        return f"{_capitalised(subject)} {verb}{match['rest']}"
    return _capitalised(text)


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def _third_person(verb: str) -> str:
    """`verb` after he, she, it or a noun: has, goes, fixes, tries, needs."""
    lower = verb.lower()
    if lower in IRREGULAR:
        return IRREGULAR[lower]
    if lower.endswith(("s", "sh", "ch", "x", "z", "o")):
        return verb + "es"
    if lower.endswith("y") and lower[-2:-1] not in "aeiou":
        return verb[:-1] + "ies"
    return verb + "s"


def introduction_email(*, team_name: str, contact_name: str, contact_short: str) -> str:
    """The introduction a referrer copies: to the person they introduce and
    our contact, saying whom it introduces, why now and what they need. The
    parts in [brackets] are theirs to fill in."""
    contact = contact_name or "[your contact with us]"
    of_team = f" of {team_name}" if team_name else ""
    # Whom the second sentence speaks to: our contact, by their first name.
    hello = contact_short or contact_name or "[Your contact with us]"
    return "\n".join(
        [
            "Subject: Introduction: [their name], meet "
            + (f"{contact} ({team_name})" if team_name else contact),
            "",
            f"[Their first name], meet {contact}{of_team}."
            f" {hello}, meet [their name], [their role] at"
            " [their company].",
            "",
            "Why now: [what is happening for them at the moment: a new project,"
            " a deadline, a change].",
            "",
            "What they need: [the problem they want solved, in their words].",
            "",
            "I think you two should talk soon; I'll leave you to find a time.",
            "",
            "[Your name]",
        ]
    )
