import pytest

from stockflow.tenancy.models import Company, Membership, Role
from tests.factories import assert_error, client_for, make_user

pytestmark = pytest.mark.django_db


def test_create_company_makes_creator_owner():
    user = make_user()
    client = client_for(user)
    response = client.post("/api/companies", {"name": "  Initech  "}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["name"] == "Initech"
    assert body["role"] == "owner"
    assert Membership.objects.get(user=user, company_id=body["id"]).role == Role.OWNER


def test_company_name_is_required():
    client = client_for(make_user())
    error = assert_error(client.post("/api/companies", {}, format="json"), 400, "validation_error")
    assert "name" in error["fields"]
    assert Company.objects.count() == 0


def test_me_lists_memberships(tenant_a):
    body = tenant_a.staff.get("/api/me").json()
    assert body["memberships"] == [
        {"company_id": tenant_a.company.id, "company_name": "Acme", "role": "staff"}
    ]


def test_list_companies_shows_only_mine(tenant_a, tenant_b):
    body = tenant_a.viewer.get("/api/companies").json()
    assert [c["id"] for c in body["results"]] == [tenant_a.company.id]


def test_other_company_is_404_like_a_missing_one(tenant_a, tenant_b):
    other = f"/api/companies/{tenant_b.company.id}"
    missing = "/api/companies/999999"
    for path in (other, missing, f"{other}/members", f"{missing}/members"):
        assert_error(tenant_a.owner.get(path), 404, "not_found")
    assert_error(tenant_a.owner.patch(other, {"name": "x"}, format="json"), 404, "not_found")
    tenant_b.company.refresh_from_db()
    assert tenant_b.company.name == "Globex"
    response = tenant_a.owner.post(f"{other}/members", {"username": "x", "role": "viewer"})
    assert_error(response, 404, "not_found")


@pytest.mark.parametrize(
    ("role", "allowed"),
    [(Role.OWNER, True), (Role.ADMIN, True), (Role.STAFF, False), (Role.VIEWER, False)],
)
def test_rename_company_needs_admin(tenant_a, role, allowed):
    response = tenant_a.clients[role].patch(
        f"/api/companies/{tenant_a.company.id}", {"name": "Renamed"}, format="json"
    )
    tenant_a.company.refresh_from_db()
    if allowed:
        assert response.status_code == 200
        assert tenant_a.company.name == "Renamed"
    else:
        assert_error(response, 403, "permission_denied")
        assert tenant_a.company.name == "Acme"


@pytest.mark.parametrize("role", [Role.OWNER, Role.ADMIN, Role.STAFF, Role.VIEWER])
def test_every_member_can_read_members(tenant_a, role):
    response = tenant_a.clients[role].get(f"/api/companies/{tenant_a.company.id}/members")
    assert response.status_code == 200
    assert len(response.json()["results"]) == 4


@pytest.mark.parametrize(
    ("role", "allowed"),
    [(Role.OWNER, True), (Role.ADMIN, False), (Role.STAFF, False), (Role.VIEWER, False)],
)
def test_only_owner_manages_members(tenant_a, role, allowed):
    newcomer = make_user("newcomer")
    client = tenant_a.clients[role]
    base = f"/api/companies/{tenant_a.company.id}/members"
    staff_membership = Membership.objects.get(user=tenant_a.users[Role.STAFF])

    add = client.post(base, {"username": "newcomer", "role": "viewer"}, format="json")
    change = client.patch(f"{base}/{staff_membership.pk}", {"role": "admin"}, format="json")
    if allowed:
        assert add.status_code == 201, add.content
        assert add.json()["role"] == "viewer"
        assert change.status_code == 200
        assert Membership.objects.get(pk=staff_membership.pk).role == Role.ADMIN
        remove = client.delete(f"{base}/{staff_membership.pk}")
        assert remove.status_code == 204
        assert not Membership.objects.filter(pk=staff_membership.pk).exists()
    else:
        assert_error(add, 403, "permission_denied")
        assert_error(change, 403, "permission_denied")
        assert_error(client.delete(f"{base}/{staff_membership.pk}"), 403, "permission_denied")
        assert not Membership.objects.filter(user=newcomer).exists()
        assert Membership.objects.get(pk=staff_membership.pk).role == Role.STAFF


def test_adding_an_existing_member_is_409(tenant_a):
    base = f"/api/companies/{tenant_a.company.id}/members"
    username = tenant_a.users[Role.VIEWER].username
    response = tenant_a.owner.post(base, {"username": username, "role": "admin"}, format="json")
    assert_error(response, 409, "already_member")
    assert Membership.objects.get(user=tenant_a.users[Role.VIEWER]).role == Role.VIEWER


def test_unknown_user_or_role_is_400(tenant_a):
    base = f"/api/companies/{tenant_a.company.id}/members"
    error = assert_error(
        tenant_a.owner.post(base, {"username": "ghost", "role": "emperor"}, format="json"),
        400,
        "validation_error",
    )
    assert set(error["fields"]) == {"username", "role"}


def test_last_owner_cannot_leave_or_be_demoted(tenant_a):
    base = f"/api/companies/{tenant_a.company.id}/members"
    owner = Membership.objects.get(user=tenant_a.users[Role.OWNER])
    assert_error(tenant_a.owner.delete(f"{base}/{owner.pk}"), 409, "last_owner")
    response = tenant_a.owner.patch(f"{base}/{owner.pk}", {"role": "viewer"}, format="json")
    assert_error(response, 409, "last_owner")
    assert Membership.objects.get(pk=owner.pk).role == Role.OWNER
