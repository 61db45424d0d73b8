"""The README's first session, through a client generated from the served OpenAPI
document by openapi-python-client: if the document lies about a path, a parameter, a
body or an answer, the generated code fails here.

    python first_session.py BASE_URL     (with the generated orgbase_client importable)
"""

import sys

from orgbase_client import AuthenticatedClient, Client
from orgbase_client.api.auth import signup
from orgbase_client.api.members import list_org_members
from orgbase_client.api.orgs import create_org, list_my_orgs
from orgbase_client.models import (
    NewOrgBody,
    OrgView,
    PageViewMemberView,
    PageViewOrgView,
    Problem,
    SignupBody,
    SignupView,
)

base = sys.argv[1]

# Sign up (the server runs with ORGBASE_SIGNUP_MODE=open): a user, a token, a personal org.
anonymous = Client(base_url=base, raise_on_unexpected_status=True)
signed_up = signup.sync(
    client=anonymous,
    body=SignupBody(email="ada@example.com", password="correct horse", name="Ada"),
)
assert isinstance(signed_up, SignupView), signed_up
assert signed_up.token.startswith("obs_")
ada = AuthenticatedClient(base_url=base, token=signed_up.token, raise_on_unexpected_status=True)

# The organizations Ada belongs to: her personal one.
mine = list_my_orgs.sync(client=ada)
assert isinstance(mine, PageViewOrgView), mine
assert len(mine.items) == 1, mine

# A new organization, with defaults for its assistants.
org = create_org.sync(
    client=ada,
    body=NewOrgBody(
        name="Aarhus Kommune",
        default_framework="openwebui",
        default_language_model="gpt-4o-mini",
    ),
)
assert isinstance(org, OrgView), org
assert org.slug == "aarhus-kommune" and org.my_role == "owner", org

# Its members, by slug: Ada, as owner.
members = list_org_members.sync(client=ada, org="aarhus-kommune")
assert isinstance(members, PageViewMemberView), members
assert [(m.email, m.role) for m in members.items] == [("ada@example.com", "owner")], members

# A refusal comes back as the documented problem document.
missing = list_org_members.sync(client=ada, org="no-such-org")
assert isinstance(missing, Problem) and missing.code == "org_not_found", missing

print("generated client: the README's first session works")
