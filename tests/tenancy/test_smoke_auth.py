from tests.factories import PASSWORD, assert_error, make_user


def test_token_flow_and_me(db, anon):
    user = make_user("alice")
    response = anon.post(
        "/api/auth/token", {"username": "alice", "password": PASSWORD}, format="json"
    )
    assert response.status_code == 201, response.content
    token = response.json()["token"]
    anon.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    me = anon.get("/api/me")
    assert me.status_code == 200
    assert me.json()["username"] == user.username
    created = anon.post("/api/companies", {"name": "Acme"}, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["role"] == "owner"


def test_unknown_url_is_json(db, anon):
    assert_error(anon.get("/api/nope"), 404, "not_found")
