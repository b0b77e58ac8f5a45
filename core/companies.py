"""A company's identity, for the conflict-of-interest guard (issue 27): a
normalised name and the email domains that are its own, so that "Acme,
Inc.", "ACME Inc" and a prospect at @acme.com are the same company.

Pure functions, no app imported (core sits below every app).
"""

import re
import unicodedata

# Legal forms ignored at the end of a name (after punctuation is dropped),
# the longest first where one contains another ("co ltd" before "ltd").
LEGAL_SUFFIXES = (
    "incorporated",
    "corporation",
    "company",
    "limited",
    "co ltd",
    "pty ltd",
    "gmbh co kg",
    "gmbh",
    "inc",
    "corp",
    "llc",
    "llp",
    "ltd",
    "plc",
    "co",
    "sa",
    "sas",
    "sarl",
    "srl",
    "spa",
    "ag",
    "kg",
    "bv",
    "nv",
    "oy",
    "ab",
    "as",
    "kk",
    "ae",
    "αε",
    "επε",
    "οε",
    # What "& Co." leaves once "co" is gone.
    "and",
)
# Addresses anyone can have: they say nothing of the company.
FREE_MAIL = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "yahoo.com",
        "outlook.com",
        "hotmail.com",
        "live.com",
        "icloud.com",
        "me.com",
        "aol.com",
        "proton.me",
        "protonmail.com",
        "gmx.de",
        "gmx.net",
        "web.de",
        "mail.ru",
        "yandex.ru",
        "qq.com",
        "163.com",
    }
)


def _folded(text: str) -> str:
    """Lower case, accents removed (é -> e; other scripts kept as they are)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def company_key(name: str) -> str:
    """A company's name as compared: case, accents, punctuation, "&"/"and"
    and legal suffixes (Inc, LLC, GmbH ...) ignored; "" for no name."""
    # Dots joined first: "S.A." is "SA", "Co." is "Co".
    text = _folded(name or "").replace(".", "").replace("&", " and ")
    words = re.sub(r"[\W_]+", " ", text).split()
    text = " ".join(words)
    changed = True
    while changed and text:
        changed = False
        for suffix in LEGAL_SUFFIXES:
            if text.endswith(" " + suffix):
                text = text[: -len(suffix) - 1]
                changed = True
                break
    return text


def email_domain(email: str) -> str:
    """The domain of an address as a company's own ("" for none, or for an
    address anyone can have: gmail.com and the like)."""
    _, at, domain = (email or "").strip().rpartition("@")
    domain = domain.casefold().strip(". ")
    if not at or not domain or domain in FREE_MAIL:
        return ""
    return domain


def domains(text: str) -> tuple[str, ...]:
    """A list of domains typed as "acme.com, acme.co.uk; @acme.de": each
    cleaned, without "@" or "www.", duplicates and free-mail domains left
    out."""
    found = []
    for item in re.split(r"[,;\s]+", text or ""):
        domain = item.strip().lstrip("@").casefold().strip(". ")
        domain = domain.removeprefix("www.")
        if domain and "." in domain and domain not in FREE_MAIL:
            found.append(domain)
    return tuple(dict.fromkeys(found))
