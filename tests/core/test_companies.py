"""A company's identity for the conflict-of-interest guard (issue 27):
names compared without case, accents, punctuation and legal suffixes, and
email domains that are a company's own."""

import pytest

from core.companies import company_key, domains, email_domain


@pytest.mark.parametrize(
    "name",
    [
        "Acme, Inc.",
        "ACME Inc",
        "acme",
        "Acme Incorporated",
        "  Acme  LLC ",
        "Acme Corp.",
    ],
)
def test_legal_suffixes_case_and_punctuation_are_ignored(name):
    assert company_key(name) == "acme"


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("Müller GmbH", "muller"),
        ("Mueller & Söhne GmbH & Co. KG", "mueller and sohne"),
        ("Smith & Jones Ltd", "smith and jones"),
        ("Smith and Jones Limited", "smith and jones"),
        ("Société Générale S.A.", "societe generale"),
        ("Βήτα Α.Ε.", "βητα"),
        ("株式会社テスト", "株式会社テスト"),
        ("The Co-operative Bank plc", "the co operative bank"),
        ("Inc", "inc"),  # a name that is only a suffix stays itself
        ("", ""),
    ],
)
def test_company_keys(name, key):
    assert company_key(name) == key


def test_different_companies_keep_different_keys():
    assert company_key("Acme") != company_key("Acme Systems")
    assert company_key("Globex Co") != company_key("Globex Corp Systems")


@pytest.mark.parametrize(
    ("email", "domain"),
    [
        ("pat@Acme.com", "acme.com"),
        ("pat@sales.acme.co.uk", "sales.acme.co.uk"),
        ("Pat@GMAIL.com", ""),  # anyone's
        ("no-at-sign", ""),
        ("", ""),
    ],
)
def test_email_domains(email, domain):
    assert email_domain(email) == domain


def test_a_typed_list_of_domains_is_cleaned():
    assert domains(" acme.com, @ACME.co.uk; www.acme.de gmail.com acme.com x ") == (
        "acme.com",
        "acme.co.uk",
        "acme.de",
    )
