"""How much assurance each kind of request needs before the organisation acts on it.

EDPB Guidelines 01/2022 and the ICO: ask only for what is necessary. Objecting
to direct marketing harms no one if the person is not who they say, so a
confirmed e-mail is enough; disclosure or erasure needs identity checked.
"""

from requests_app.models import DataSubjectRequest, Right


def identity_check_needed(request: DataSubjectRequest) -> bool:
    if request.right == Right.OBJECTION and request.details.get("objection_type") == "direct_marketing":
        return False
    return True
