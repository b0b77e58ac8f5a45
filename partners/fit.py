"""How well a referral partner fits the team: the same buyers, the same
industries, company sizes that overlap, and the rep's judgement of personal
click and trust (DOMAIN.md, section 3).

`fit()` is a pure function of the team's focus and the partner's: the
figure (0 to 100) and the reasons in plain words, or no figure when either
focus is not written down yet (the reasons then say whose is missing). The
figure is stored on the partner (Partner.fit_score) so that the partner list
sorts and filters by it in the database; partners.services keeps it
current when a partner or a team's focus changes.
"""

import re
from dataclasses import dataclass, field

# The figure's parts: what the two sides sell to weighs most.
ROLES_POINTS = 35
INDUSTRIES_POINTS = 25
SIZES_POINTS = 20
CLICK_TRUST_POINTS = 20  # click and trust, 1 to 5 each
RATING_MAX = 5

# The figure in words, on the list and the partner page.
STRONG_FROM = 70
SOME_FROM = 40


TEAM_FOCUS_MISSING = "The team's focus is not set yet (Partners, Our focus)."
PARTNER_FOCUS_MISSING = "Their focus is not recorded yet: edit the partner."


@dataclass(frozen=True)
class Focus:
    """Whom one side serves: buyers' roles, industries and company sizes (in
    people; None: not said)."""

    roles: tuple[str, ...] = ()
    industries: tuple[str, ...] = ()
    size_min: int | None = None
    size_max: int | None = None

    @property
    def is_empty(self) -> bool:
        return not (self.roles or self.industries or self.size_min or self.size_max)


@dataclass(frozen=True)
class Fit:
    score: int | None  # None: a focus is not written down yet
    reasons: list[str] = field(default_factory=list)
    overlaps: bool = False  # some part of the two focuses is shared

    @property
    def level(self) -> str:
        return fit_level(self.score, self.overlaps)

    @property
    def label(self) -> str:
        return LEVELS[self.level]


# The figure in words, on the list and the partner page (and the class of
# its badge: .fit-strong ...).
LEVELS = {
    "strong": "Strong fit",
    "some": "Some fit",
    "weak": "Weak fit",
    "none": "No overlap",
    "unknown": "Fit unknown",
}


def fit_level(score: int | None, overlaps: bool = True) -> str:
    """The figure's level (LEVELS). A stored score has lost `overlaps`: a
    partner with no overlap scores under SOME_FROM and reads as weak."""
    if score is None:
        return "unknown"
    if not overlaps:
        return "none"
    if score >= STRONG_FROM:
        return "strong"
    return "some" if score >= SOME_FROM else "weak"


def terms(text: str) -> tuple[str, ...]:
    """A list typed as "HR directors, CFOs; Software": its items, trimmed,
    duplicates dropped, in the order typed."""
    items = (item.strip() for item in re.split(r"[,;\n]", text or ""))
    return tuple(dict.fromkeys(item for item in items if item))


def _key(item: str) -> str:
    """An item as compared: case, punctuation and a plural "s" ignored, so
    that "HR Directors" and "hr director" are the same buyer."""
    words = re.sub(r"[^\w\s]", " ", item.casefold()).split()
    return " ".join(
        word[:-1] if len(word) > 3 and word.endswith("s") else word for word in words
    )


def _shared(ours: tuple[str, ...], theirs: tuple[str, ...]) -> list[str]:
    """Their items that are also ours, as they wrote them."""
    keys = {_key(item) for item in ours}
    return [item for item in theirs if _key(item) in keys]


def _size_range(low: int | None, high: int | None) -> str:
    if low and high and low == high:
        return str(low)
    if low and high:
        return f"{low}-{high}"
    return f"{low}+" if low else f"up to {high}"


def _sizes_overlap(ours: Focus, theirs: Focus) -> tuple[int, int | None] | None:
    """The company sizes both serve, or None when either said none or they
    do not overlap."""
    if not (ours.size_min or ours.size_max) or not (theirs.size_min or theirs.size_max):
        return None
    low = max(ours.size_min or 0, theirs.size_min or 0)
    highs = [value for value in (ours.size_max, theirs.size_max) if value]
    high = min(highs) if highs else None
    if high is not None and low > high:
        return None
    return low, high


def fit(
    team: Focus | None,
    partner: Focus,
    *,
    click: int | None = None,
    trust: int | None = None,
) -> Fit:
    """How well `partner` fits the team whose focus is `team` (None: the
    partner's owner has no team, or it has not set its focus)."""
    if team is None or team.is_empty:
        return Fit(None, [TEAM_FOCUS_MISSING])
    if partner.is_empty:
        return Fit(None, [PARTNER_FOCUS_MISSING])
    score, reasons = 0, []
    roles = _shared(team.roles, partner.roles)
    if roles:
        score += ROLES_POINTS
        reasons.append(f"same buyer: {', '.join(roles)}")
    industries = _shared(team.industries, partner.industries)
    if industries:
        score += INDUSTRIES_POINTS
        reasons.append(f"same industries: {', '.join(industries)}")
    sizes = _sizes_overlap(team, partner)
    if sizes:
        score += SIZES_POINTS
        reasons.append(f"sizes overlap {_size_range(*sizes)}")
    overlaps = bool(roles or industries or sizes)
    if not overlaps:
        reasons.append(
            "focuses do not overlap: they serve "
            f"{_described(partner)}, we sell to {_described(team)}"
        )
    ratings = [value for value in (click, trust) if value]
    if ratings:
        score += round(CLICK_TRUST_POINTS * sum(ratings) / (RATING_MAX * len(ratings)))
    if trust:
        reasons.append(f"trust {trust}/{RATING_MAX}")
    if click:
        reasons.append(f"click {click}/{RATING_MAX}")
    if not ratings:
        reasons.append("click and trust not rated yet")
    return Fit(score, reasons, overlaps)


def _described(focus: Focus) -> str:
    parts = [", ".join(focus.roles), ", ".join(focus.industries)]
    if focus.size_min or focus.size_max:
        parts.append(f"{_size_range(focus.size_min, focus.size_max)} people")
    return "; ".join(part for part in parts if part) or "nothing said"
