"""The README stays the door: short, its links and the docs' links lead
somewhere, and the demo logins it lists are the ones seed_demo creates."""

import re
from io import StringIO
from pathlib import Path

from django.core.management import call_command

from accounts.models import ADMIN, MANAGER, REP, User
from referrals.management.commands.seed_demo import PASSWORD

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
# Issue 24: the README says what it is and how to start; the manual is docs/.
README_MAX_BYTES = 8000
# Pages another engineer is writing (issue 24): a link to one passes while it
# does not exist yet, and is checked like any other once it does. Empty this
# when they have landed.

FENCE = re.compile(r"^ *```.*?^ *```", re.MULTILINE | re.DOTALL)
CODE_SPAN = re.compile(r"`[^`]*`")
# [text](target) and ![alt](target); a title after the target is allowed.
LINK = re.compile(r"!?\[[^\]]*\]\(\s*([^)\s]+)(?:\s+\"[^\"]*\")?\s*\)")
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)
# | `rep@example.com` | sales rep, team North |
LOGIN_ROW = re.compile(r"^\|\s*`([^`@\s]+@[^`\s]+)`\s*\|\s*(.+?)\s*\|\s*$", re.M)


def markdown_files() -> list[Path]:
    return [README, *sorted((ROOT / "docs").glob("*.md"))]


def prose(path: Path) -> str:
    """The file without code blocks and code spans (no links live there)."""
    return CODE_SPAN.sub("", FENCE.sub("", path.read_text()))


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped
    (hyphens and underscores kept), spaces to hyphens."""
    text = CODE_SPAN.sub(lambda m: m.group(0).strip("`"), heading)
    text = re.sub(r"[^\w\- ]", "", text.lower())
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    return {slug(h) for h in HEADING.findall(FENCE.sub("", path.read_text()))}


def relative_links(path: Path) -> list[str]:
    return [
        target
        for target in LINK.findall(prose(path))
        if not re.match(r"[a-z][a-z0-9+.-]*:", target)  # http:, mailto:, ...
    ]


def test_readme_is_under_8_kb():
    size = len(README.read_bytes())
    assert size < README_MAX_BYTES, (
        f"README.md is {size} bytes; move detail to docs/ (issue 24)"
    )


def test_every_relative_link_leads_to_a_file_and_heading():
    broken = []
    for path in markdown_files():
        for target in relative_links(path):
            file_part, _, anchor = target.partition("#")
            linked = (path.parent / file_part).resolve() if file_part else path
            where = f"{path.relative_to(ROOT)}: {target}"
            if not linked.exists():
                broken.append(f"{where} (no such file)")
            elif (
                anchor
                and linked.exists()
                and linked.suffix == ".md"
                and anchor not in anchors(linked)
            ):
                broken.append(f"{where} (no such heading)")
    assert not broken, "broken links:\n" + "\n".join(broken)


def test_the_link_check_sees_links_and_skips_code():
    """Guards the regexes above: a link is found, a code span is not."""
    docs = ROOT / "docs"
    assert "docs/images/tour.png" in relative_links(README)
    assert "deployment.md" in relative_links(docs / "operations.md")
    assert "[rounds]" not in "".join(relative_links(docs / "operations.md"))


def readme_logins() -> dict[str, str]:
    return dict(LOGIN_ROW.findall(README.read_text()))


def test_readme_lists_the_logins_seed_demo_creates(db, settings):
    settings.DEBUG = True  # seed_demo refuses to run with DEBUG off
    call_command("seed_demo", partners=2, referrals=3, stdout=StringIO())
    listed = readme_logins()
    created = {user.email: user for user in User.objects.all()}
    assert set(listed) == set(created)
    assert f"The password is `{PASSWORD}` for all of them." in README.read_text()
    for email, who in listed.items():
        user = created[email]
        assert user.check_password(PASSWORD), email
        expected_role = {"sales rep": REP, "manager": MANAGER, "admin": ADMIN}
        said = next(word for word in expected_role if who.startswith(word))
        assert user.role == expected_role[said], email
        if user.role == MANAGER:
            managed = [team.name for team in user.managed_teams.all()]
            assert who == f"manager of team {', '.join(managed)}", email
        elif user.team:
            assert who.endswith(f"team {user.team.name}"), email
