"""Every error under /api/ has the one JSON shape, whatever produced it."""

import pytest

from stockflow.api.throttling import TokenRateThrottle
from stockflow.tenancy.models import Role
from stockflow.tenancy.views import MeView
from tests.factories import APIClient, assert_error

pytestmark = pytest.mark.django_db


def test_validation_error_names_the_field(tenant_a):
    response = tenant_a.owner.post("/api/companies", {"name": ""}, format="json")
    error = assert_error(response, 400, "validation_error")
    assert list(error["fields"]) == ["name"]
    assert isinstance(error["fields"]["name"], list)


def test_malformed_json_is_400(tenant_a):
    response = tenant_a.owner.post(
        "/api/companies", data='{"name": ', content_type="application/json"
    )
    assert_error(response, 400, "parse_error")


def test_nan_literal_is_refused(tenant_a):
    response = tenant_a.owner.post(
        "/api/companies", data='{"name": NaN}', content_type="application/json"
    )
    assert_error(response, 400, "parse_error")


def test_unauthenticated_is_401(anon):
    assert_error(anon.get("/api/me"), 401, "not_authenticated")


def test_forbidden_is_403(tenant_a):
    response = tenant_a.viewer.patch(
        f"/api/companies/{tenant_a.company.id}", {"name": "x"}, format="json"
    )
    assert_error(response, 403, "permission_denied")


def test_missing_object_is_404(tenant_a):
    assert_error(tenant_a.owner.get("/api/companies/424242"), 404, "not_found")


@pytest.mark.parametrize("path", ["/api/nope", "/api/companies/abc", "/api/", "/api/me/extra"])
def test_unknown_url_is_404_json(anon, path):
    assert_error(anon.get(path), 404, "not_found")


def test_method_not_allowed_is_405(tenant_a):
    assert_error(tenant_a.owner.delete("/api/me"), 405, "method_not_allowed")


def test_conflict_is_409(tenant_a):
    base = f"/api/companies/{tenant_a.company.id}/members"
    username = tenant_a.users[Role.ADMIN].username
    response = tenant_a.owner.post(base, {"username": username, "role": "staff"}, format="json")
    assert_error(response, 409, "already_member")


def test_throttled_is_429_with_retry_after(tenant_a, monkeypatch):
    monkeypatch.setitem(TokenRateThrottle.THROTTLE_RATES, "token", "3/minute")
    statuses = [tenant_a.viewer.get("/api/me").status_code for _ in range(3)]
    assert statuses == [200, 200, 200]
    response = tenant_a.viewer.get("/api/me")
    assert_error(response, 429, "throttled")
    assert int(response["Retry-After"]) > 0
    # The limit is per token: another token of another user is not affected.
    assert tenant_a.owner.get("/api/me").status_code == 200


def test_unexpected_exception_is_500_json_without_traceback(tenant_a, monkeypatch):
    def explode(self, request):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(MeView, "get", explode)
    client = APIClient(raise_request_exception=False)
    client.credentials(**tenant_a.owner._credentials)
    response = client.get("/api/me")
    error = assert_error(response, 500, "server_error")
    assert "secret internals" not in response.content.decode()
    assert "Traceback" not in response.content.decode()
    assert error["message"] == "Internal server error."


def test_too_large_body_is_413(tenant_a, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = tenant_a.owner.post(
        "/api/companies", data='{"name": "' + "x" * 2000 + '"}', content_type="application/json"
    )
    assert_error(response, 413, "request_too_large")
