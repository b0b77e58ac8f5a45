"""The scoring rule of the referral criteria, in one pure function.

A referral's score is the weight of the criteria it answered yes, as a
percent of the weight of the criteria it answered (rounded down, so the
score shown and the label never disagree at a threshold); the team's (or
the organisation's) thresholds turn it into a label. No answer: not
assessed.
"""

from collections.abc import Iterable

from referrals.models import Label

DEFAULT_QUALIFIED_FROM = 70
DEFAULT_LUKEWARM_FROM = 40


def assess(
    answers: Iterable[tuple[int, bool]],
    *,
    qualified_from: int = DEFAULT_QUALIFIED_FROM,
    lukewarm_from: int = DEFAULT_LUKEWARM_FROM,
) -> tuple[int | None, str]:
    """(score, label) of `answers`: (weight, answered yes) per criterion
    answered. Qualified from `qualified_from` percent, Lukewarm from
    `lukewarm_from`, Cold below; (None, Not assessed) without answers."""
    answered = yes = 0
    for weight, said_yes in answers:
        answered += weight
        yes += weight if said_yes else 0
    if not answered:
        return None, Label.UNASSESSED
    score = yes * 100 // answered
    if score >= qualified_from:
        return score, Label.QUALIFIED
    if score >= lukewarm_from:
        return score, Label.LUKEWARM
    return score, Label.COLD
