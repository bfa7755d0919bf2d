"""The table of refusal grounds per right (GDPR Art. 12(4) with Arts. 16-21, 11(2), 12(5), 23; LAW.md R1): a ground
offered for the wrong right is refused."""

import pytest

from requests_app import grounds
from requests_app.models import Outcome, RefusalGround, Right
from requests_app.scope import ObjectionScope, ObjectionType

G = RefusalGround
ANY = {
    G.MANIFESTLY_UNFOUNDED,
    G.MANIFESTLY_EXCESSIVE,
    G.EXEMPTION,
    G.IDENTITY_NOT_VERIFIED,
    G.SUBJECT_DENIED_AGENT,
    G.NOT_IN_POSITION_TO_IDENTIFY,
}
# The law's own table, written out here rather than read from the code: Art. 16, 17(3)(a)-(e), 18(1), 20(1), 20(3),
# 20(4), 21(1), 21(6); Art. 12(5), 23, 11(2) for every right.
EXPECTED = {
    Right.ACCESS: ANY,
    Right.RECTIFICATION: ANY | {G.RECTIFICATION_DATA_ACCURATE},
    Right.ERASURE: ANY
    | {
        G.ERASURE_FREEDOM_OF_EXPRESSION,
        G.ERASURE_LEGAL_OBLIGATION,
        G.ERASURE_PUBLIC_HEALTH,
        G.ERASURE_ARCHIVING_RESEARCH,
        G.ERASURE_LEGAL_CLAIMS,
    },
    Right.RESTRICTION: ANY | {G.RESTRICTION_GROUND_NOT_MADE_OUT},
    Right.OBJECTION: ANY
    | {G.OBJECTION_COMPELLING_GROUNDS, G.OBJECTION_LEGAL_CLAIMS, G.OBJECTION_PUBLIC_INTEREST_RESEARCH},
    Right.PORTABILITY: ANY
    | {
        G.PORTABILITY_NOT_CONSENT_OR_CONTRACT,
        G.PORTABILITY_NOT_AUTOMATED,
        G.PORTABILITY_PUBLIC_TASK,
        G.PORTABILITY_ADVERSELY_AFFECTS_OTHERS,
    },
}
LEGITIMATE_INTERESTS = ObjectionScope(
    type=ObjectionType.LEGITIMATE_INTERESTS, processing="Profiling", grounds="It upsets me"
).as_details()


def _complete_particulars(ground: str) -> dict:
    """Everything any ground could need, so that only the ground itself decides."""
    return {
        "reasons": "Because.",
        "note": "Evidence.",
        "statement_recorded": "Your statement is on file.",
        "exemption": "uk_sch2_para19" if ground == G.EXEMPTION else "",
        "reference": "DPA 2018 Sch. 2 para 19" if ground == G.EXEMPTION else "",
    }


@pytest.mark.parametrize(
    ("right", "ground"), [(right, ground) for right in EXPECTED for ground in RefusalGround.values]
)
def test_each_right_can_be_refused_only_on_the_grounds_the_law_gives_for_it(right, ground):
    details = LEGITIMATE_INTERESTS if right == Right.OBJECTION else {}
    check = lambda: grounds.refusal_check(  # noqa: E731
        right=right, details=details, jurisdiction="GB-ENG", ground=ground, **_complete_particulars(ground)
    )
    if ground in EXPECTED[right]:
        assert check().ground == ground
    else:
        with pytest.raises(grounds.GroundError, match="not a ground"):
            check()


@pytest.mark.parametrize("ground", RefusalGround.values)
def test_an_objection_to_direct_marketing_cannot_be_weighed_or_called_excessive(ground):
    """Art. 21(2)-(3): absolute. Only a request that is not the person's own can fail."""
    details = ObjectionScope(type=ObjectionType.DIRECT_MARKETING).as_details()
    allowed = grounds.allowed_grounds(right=Right.OBJECTION, details=details)
    assert (ground in allowed) == (ground in {G.IDENTITY_NOT_VERIFIED, G.SUBJECT_DENIED_AGENT})


def test_the_stored_values_of_earlier_grounds_are_unchanged():
    assert {"manifestly_unfounded", "manifestly_excessive", "exemption", "identity_not_verified"} <= set(
        RefusalGround.values
    )
    assert "subject_denied_agent" in RefusalGround.values
    assert set(Outcome.values) == {"fulfilled", "partly_fulfilled", "no_data_held"}
