"""The Postman collection (mockserver/postman.py): the shipped file is what the code builds, the sandbox serves it
with its own address, and every request is one the description has, with a test. tests/test_tools.py runs it
with newman against a real server."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import contract
from flask.testing import FlaskClient

from mockserver import postman


def _requests(items: list[dict[str, Any]], folder: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    for item in items:
        if "item" in item:
            yield from _requests(item["item"], item["name"])
        else:
            yield folder, item


def test_the_shipped_file_is_what_the_code_builds() -> None:
    """Regenerate with `python -m mockserver.postman` after changing mockserver/postman.py."""
    assert postman.shipped() == postman.render(postman.build()), "mockserver/postman.json is stale"


def test_the_sandbox_serves_it_with_its_own_address(client: FlaskClient) -> None:
    response = client.get("/__mock/postman.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    served = response.get_json()
    variables = {variable["key"]: variable["value"] for variable in served["variable"]}
    assert variables["baseUrl"] == "http://localhost"
    assert variables["accessToken"] == ""
    shipped = json.loads(postman.shipped())
    for variable in shipped["variable"]:
        if variable["key"] == "baseUrl":
            variable["value"] = "http://localhost"
    assert served == shipped
    again = client.get("/__mock/postman.json", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def test_folders_per_resource_and_the_error_paths_apart() -> None:
    folders = [folder["name"] for folder in postman.build()["item"]]
    assert folders == ["info", "calendars", "slots", "booking", "appointments", "clients", "statistics", "errors"]
    errors = dict(_requests(postman.build()["item"]))
    forced = [item for folder, item in _requests(postman.build()["item"]) if folder == "errors"]
    assert (
        errors
        and sum(any(header["key"] == "X-Mock-Scenario" for header in item["request"]["header"]) for item in forced) >= 4
    )
    for folder, item in _requests(postman.build()["item"]):
        scenario = [header for header in item["request"]["header"] if header["key"] == "X-Mock-Scenario"]
        assert not scenario or folder == "errors", item["name"]


def test_every_request_is_an_operation_of_the_description_with_a_test() -> None:
    collection = postman.build()
    operations = contract.operations()
    count = 0
    for _folder, item in _requests(collection["item"]):
        request = item["request"]
        path = "/" + "/".join(request["url"]["path"])
        concrete = re.sub(r"\{\{\w+\}\}", "100001", path)
        template = contract.match_path(concrete)
        assert (request["method"], template) in operations, (item["name"], path)
        test = "\n".join(next(e for e in item["event"] if e["listen"] == "test")["script"]["exec"])
        assert "pm.response.to.have.status(" in test and ".error_code).to.eql(" in test, item["name"]
        assert "__scenario" not in request["url"]["raw"] and "debug=" not in request["url"]["raw"]
        count += 1
    assert count >= 20


def test_the_token_is_computed_when_none_is_given() -> None:
    collection = postman.build()
    assert collection["auth"]["type"] == "apikey"
    settings = {entry["key"]: entry["value"] for entry in collection["auth"]["apikey"]}
    assert settings == {"key": "Access-Token", "value": "{{accessToken}}", "in": "header"}
    script = "\n".join(collection["event"][0]["script"]["exec"])
    assert "CryptoJS.HmacSHA256(pm.variables.get('accountId'), pm.variables.get('secretKey'))" in script
    documented = {variable["key"]: variable["description"] for variable in collection["variable"]}
    assert {"baseUrl", "accessToken"} <= set(documented) and all(documented.values())
