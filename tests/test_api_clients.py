from __future__ import annotations

import pytest
from conftest import assert_error


def test_fifty_french_clients_with_plausible_contacts(api):
    body = api.get("/api/clients").get_json()
    assert body["pagination"]["total"] == 50
    clients = body["data"]
    assert all(c["client_phone"].startswith("+33") and len(c["client_phone"]) == 12 for c in clients)
    assert all(c["client_email"].split("@")[1].startswith("example.") for c in clients)
    assert len({c["client_email"] for c in clients}) == 50
    assert list(clients[0]) == [
        "client_id",
        "client_firstname",
        "client_lastname",
        "client_email",
        "client_phone",
        "created_at",
        "appointments_count",
        "last_appointment",
    ]
    assert any(c["appointments_count"] == 0 and c["last_appointment"] is None for c in clients)


def test_client_counts_match_their_appointments(api):
    for client in api.data("/api/clients", per_page=10):
        mine = api.all("/api/appointments", client_id=client["client_id"])
        assert client["appointments_count"] == len(mine)
        assert client["last_appointment"] == (max(a["date"] for a in mine) if mine else None)


@pytest.mark.parametrize("query", ["jean", "JEAN", "Jéan", "dupont", "jean.dupont@"])
def test_search_is_case_and_accent_insensitive_over_names_and_email(api, query):
    found = api.data("/api/clients", search=query)
    assert any(c["client_email"] == "jean.dupont@example.com" for c in found)


def test_search_finds_accented_names_from_plain_letters(api):
    accented = [
        c
        for c in api.all("/api/clients")
        if any(ch in c["client_firstname"] + c["client_lastname"] for ch in "éèêëïîôöüûç")
    ]
    assert accented, "the default dataset has accented names"
    target = accented[0]
    plain = target["client_lastname"].translate(str.maketrans("éèêëïîôöüûç", "eeeeiioouuc")).upper()
    assert target["client_id"] in [c["client_id"] for c in api.data("/api/clients", search=plain)]


def test_search_treats_wildcards_literally(api):
    assert api.data("/api/clients", search="%") == []
    assert api.data("/api/clients", search="_") == []


def test_email_phone_and_creation_filters(api):
    assert [c["client_id"] for c in api.data("/api/clients", email="JEAN.DUPONT@example.com")] == [1001]
    assert [c["client_id"] for c in api.data("/api/clients", phone="01 23 45 67 89")] == [1001]
    recent = api.data("/api/clients", created_from="2025-05-01")
    assert recent and all(c["created_at"] >= "2025-05-01" for c in recent)
    early = api.data("/api/clients", created_to="2025-01-31")
    assert all(c["created_at"][:10] <= "2025-01-31" for c in early)


def test_documented_search_example(api):
    body = api.get("/api/clients", search="jean", page=1, per_page=10).get_json()
    assert body["pagination"]["per_page"] == 10
    assert any(c["client_firstname"] == "Jean" for c in body["data"])


def test_client_detail_adds_updated_at(api):
    body = api.get("/api/clients/1002").get_json()
    assert body["message"] == "Client retrieved successfully"
    assert body["data"]["client_lastname"] == "Martin"
    assert list(body["data"])[5:7] == ["created_at", "updated_at"]


def test_calendar_clients_are_those_with_appointments_there(api):
    body = api.get("/api/clients/1", search="martin").get_json()
    assert body["message"] == "Calendar clients retrieved successfully"
    assert body["meta"] == {"calendar_id": 1}
    for client in api.all("/api/clients/1"):
        there = api.all("/api/appointments", calendar_id=1, client_id=client["client_id"])
        assert client["appointments_count"] == len(there) > 0


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"created_from": "yesterday"}, "INVALID_DATE_FORMAT"),
        ({"per_page": -1}, "INVALID_PARAMETER"),
        ({"created_from": "2025-06-01", "created_to": "2025-05-01"}, "INVALID_PARAMETER"),
    ],
)
def test_client_parameters_are_validated(api, params, code):
    assert_error(api.get("/api/clients", **params), code, 400)


def test_unknown_client(api):
    assert_error(api.get("/api/clients/999999"), "RESOURCE_NOT_FOUND", 404)


def test_search_finds_a_client_created_by_a_booking(api):
    from test_control import booking, future_free_slot

    body = {**booking(future_free_slot(api), "z.ebulon@example.org"), "client_firstname": "Zébulon"}
    assert api.post("/api/appointment", body).status_code == 200
    assert [c["client_email"] for c in api.data("/api/clients", search="ZEBUL")] == ["z.ebulon@example.org"]
    assert [c["client_email"] for c in api.data("/api/clients", search="z.e")] == ["z.ebulon@example.org"]
