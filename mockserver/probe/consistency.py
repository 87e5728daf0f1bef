"""Rules any dataset must satisfy, checked on each side by itself: statistics add up, totals match lists.

A rule looks at one answer (and, for the rules across calls, at the same side's other answers) and says
``HOLDS``, a failure (``"fails: ..."``), or None when it does not apply (a field missing or of another
type: that is already a shape difference, not a second one). The comparison reports a rule whose outcome
differs between the sides. Rules name the section of docs/interpretation.md that states them.

How a rule is written is ``rulebook``'s; the rules themselves live in the ``rules_*`` modules, by topic.
"""

from __future__ import annotations

from mockserver.probe import rules_across, rules_csv, rules_envelope, rules_lists, rules_statistics
from mockserver.probe.calls import Observation
from mockserver.probe.rulebook import Facts, NotApplicable, Rule
from mockserver.probe.side import Side

HOLDS = "holds"

#: Every rule, in the order the comparison and the report list them.
RULES: tuple[Rule, ...] = (
    *rules_envelope.RULES,
    *rules_lists.RULES,
    *rules_statistics.RULES,
    *rules_across.RULES,
    *rules_csv.RULES,
)


def outcome(check: Rule, observation: Observation, side: Side) -> str | None:
    """HOLDS, "fails: ...", or None (not applicable)."""
    if not check.applies(observation):
        return None
    try:
        failure = check.check(Facts(observation, side))
    except NotApplicable:
        return None
    return HOLDS if failure is None else f"fails: {failure}"
