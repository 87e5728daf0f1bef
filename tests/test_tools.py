"""The description, the Postman collection, the image and the workflows, fed to the tools integrators use.

Each tool is pinned in .ci/tools (npm: package.json + package-lock.json; PyPI: requirements.txt, in a venv of its
own) and installed by .ci/run; a tool that is not installed makes its test skip, saying so. Every test drives the
real tool against a real sandbox (``tap4book-mock serve``) or the shipped files, and checks what an integrator
would see: parse errors, lint errors, generated types, failed requests, answers changed by a proxy.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import DEFAULT_TOKEN
from server import running

from mockserver import openapi

ROOT = Path(__file__).resolve().parent.parent
TOOLS = ROOT / ".ci" / "tools"
WORK = TOOLS / "work"  # under .ci/tools: node resolves openapi-fetch from its node_modules; ignored by git
NODE_BIN = TOOLS / "node_modules" / ".bin"
PY_BIN = TOOLS / ".venv" / "bin"
SPEC_YAML = ROOT / "mockserver" / "openapi.yaml"
SPEC_JSON = WORK / "openapi.json"  # the path .ci/tools/.redocly.lint-ignore.yaml names

pytestmark = pytest.mark.slow


def _tool(folder: Path, name: str) -> str:
    path = folder / name
    if not path.exists():
        how = "npm ci --prefix .ci/tools" if folder == NODE_BIN else "the .ci/tools/.venv of .ci/run"
        pytest.skip(f"{name} is not installed ({how}; .ci/run installs it): not checked")
    return str(path)


def _run(*command: str, timeout: float = 240, cwd: Path = TOOLS, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=timeout, cwd=cwd, env={**os.environ, **(env or {})}
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"{' '.join(command[:3])} exited {result.returncode}:\n{output[-4000:]}"
    return output


@pytest.fixture(scope="module")
def work() -> Path:
    WORK.mkdir(exist_ok=True)
    # Written whole, then renamed: two test workers may write it at once (the same bytes).
    partial = WORK / f"openapi.{uuid.uuid4().hex}.tmp"
    partial.write_bytes(openapi.as_json())
    partial.replace(SPEC_JSON)
    return WORK


@pytest.fixture(scope="module")
def sandbox() -> Iterator[str]:
    with running() as (_process, url):
        yield url.rstrip("/")


@pytest.fixture
def scratch(work: Path) -> Iterator[Path]:
    folder = work / uuid.uuid4().hex
    folder.mkdir()
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


# --- linters of the description -----------------------------------------------------------------------------


def test_redocly_parses_and_lints_both_forms_without_errors(work: Path) -> None:
    """Redocly 2 refused the YAML outright ("deficient indentation"); its recommended rules find no error in either
    form (the real API's GET /api/ is the one documented exception, in .ci/tools/.redocly.lint-ignore.yaml)."""
    redocly = _tool(NODE_BIN, "redocly")
    output = _run(redocly, "lint", str(SPEC_YAML), str(SPEC_JSON), "--config", "redocly.yaml", "--format=summary")
    assert output.count("validated in") == 2 and "error " not in output.replace("0 errors", ""), output


def test_spectral_finds_no_error_in_either_form(work: Path) -> None:
    spectral = _tool(NODE_BIN, "spectral")
    report = WORK / f"spectral.{uuid.uuid4().hex}.json"
    try:
        _run(spectral, "lint", "-r", ".spectral.yaml", "-f", "json", "-o", str(report), str(SPEC_YAML), str(SPEC_JSON))
        problems = json.loads(report.read_text())
    finally:
        report.unlink(missing_ok=True)
    errors = [problem for problem in problems if problem["severity"] == 0]
    assert errors == [], [(p["code"], p["path"], p["message"]) for p in errors[:10]]


# --- client generators ----------------------------------------------------------------------------------------

PYTHON_CLIENT = """
import datetime, sys
from tap4book_client import Client
from tap4book_client.api.slots import list_slots
from tap4book_client.api.appointments import list_appointments
from tap4book_client.api.clients import list_clients
from tap4book_client.api.booking import create_appointment
from tap4book_client.models import Appointment, Client as ClientRecord, NewAppointment, Slot

client = Client(base_url=sys.argv[1], headers={"Access-Token": sys.argv[2]}, raise_on_unexpected_status=True)
slots = list_slots.sync(client=client, calendar_id=1, date_from=datetime.date(2025, 6, 9),
                        date_to=datetime.date(2025, 6, 13))
appointments = list_appointments.sync(client=client, per_page=5)
clients = list_clients.sync(client=client, per_page=5)
assert all(isinstance(item, Slot) for item in slots.data), slots.data[:1]
assert all(isinstance(item, Appointment) for item in appointments.data), appointments.data[:1]
assert all(isinstance(item, ClientRecord) for item in clients.data), clients.data[:1]
free = next(slot for slot in slots.data if slot.is_available)
made = create_appointment.sync(client=client, body=NewAppointment(
    calendar_id=1, slot_id=free.slot_id, client_firstname="Jean", client_lastname="Dupont",
    client_email="jean.dupont@example.com", client_phone="+33123456789"))
assert isinstance(made.data.appointment, Appointment) and made.data.appointment.slot_id == free.slot_id
print(len(slots.data), len(appointments.data), len(clients.data), made.data.appointment.appointment_id)
"""


def test_openapi_python_client_lists_with_item_types_and_books(sandbox: str, scratch: Path) -> None:
    """openapi-python-client 0.29.1 typed every list as list[Calendar] (an allOf overriding `data`)."""
    generator = _tool(PY_BIN, "openapi-python-client")
    (scratch / "config.yml").write_text(
        "project_name_override: tap4book-client\npackage_name_override: tap4book_client\n"
    )
    _run(generator, "generate", "--path", str(SPEC_JSON), "--config", "config.yml", cwd=scratch)
    (scratch / "use.py").write_text(PYTHON_CLIENT)
    output = _run(
        str(PY_BIN / "python"),
        "use.py",
        sandbox,
        DEFAULT_TOKEN,
        cwd=scratch,
        env={"PYTHONPATH": str(scratch / "tap4book-client")},
    )
    slots, appointments, clients, _created = output.split()
    assert int(slots) > 0 and int(appointments) == 5 and int(clients) == 5


def test_datamodel_code_generator_keeps_the_item_types(sandbox: str, scratch: Path) -> None:
    generator = _tool(PY_BIN, "datamodel-codegen")
    models = scratch / "models.py"
    _run(
        generator,
        "--input",
        str(SPEC_JSON),
        "--input-file-type",
        "openapi",
        "--output-model-type",
        "pydantic_v2.BaseModel",
        "--output",
        str(models),
    )
    program = (
        "import json, sys, urllib.request\n"
        "from models import SlotListEnvelope, ClientListEnvelope\n"
        "def get(path):\n"
        "    request = urllib.request.Request(sys.argv[1] + path, headers={'Access-Token': sys.argv[2]})\n"
        "    return json.load(urllib.request.urlopen(request))\n"
        "slots = SlotListEnvelope.model_validate(get('/api/slots?calendar_id=1&date_from=2025-06-10'))\n"
        "clients = ClientListEnvelope.model_validate(get('/api/clients?per_page=3'))\n"
        "print(type(slots.data[0]).__name__, type(clients.data[0]).__name__)\n"
    )
    (scratch / "use.py").write_text(program)
    assert _run(str(PY_BIN / "python"), "use.py", sandbox, DEFAULT_TOKEN, cwd=scratch).split() == ["Slot", "Client"]


TYPESCRIPT_PROGRAM = """
import createClient from "openapi-fetch";
import type { paths } from "./schema";

// The second type parameter picks the media type to type: the API also answers XML and CSV (as text).
const client = createClient<paths, "application/json">({ baseUrl: "http://127.0.0.1:8080" });

export async function book(): Promise<number> {
  const slots = await client.GET("/api/slots", {
    params: { query: { calendar_id: 1, date_from: "2025-06-10" }, header: { "X-Debug": "true" } },
  });
  if (!slots.data) throw new Error(slots.error?.message);
  const free: number = slots.data.data.filter((slot) => slot.is_available)[0].slot_id;
  const created = await client.POST("/api/appointment", {
    body: { calendar_id: 1, slot_id: free, client_firstname: "Jean", client_lastname: "Dupont",
            client_email: "jean.dupont@example.com", client_phone: "+33123456789" },
  });
  if (!created.data) throw new Error(created.error?.error_code);
  const status: "pending" | "confirmed" | "cancelled" | "completed" = created.data.data.appointment.status;
  console.log(status, created.data.pagination ?? "no pagination on a single record");
  return created.data.data.appointment.appointment_id;
}
"""


def _tsc(folder: Path, *files: str) -> None:
    tsc = _tool(NODE_BIN, "tsc")
    flags = ["--strict", "--noEmit", "--target", "es2022", "--module", "esnext", "--moduleResolution", "bundler"]
    _run(tsc, *flags, "--lib", "es2022,dom", *files, cwd=folder)


def test_openapi_typescript_types_pass_tsc_strict(scratch: Path) -> None:
    """openapi-typescript 7.13 typed a single record's `data` as possibly undefined (TS18048 under --strict)."""
    generator = _tool(NODE_BIN, "openapi-typescript")
    # Run where an integrator would: with no redocly.yaml around (it would apply ours, without its ignore file).
    _run(generator, str(SPEC_JSON), "--output", str(scratch / "schema.d.ts"), cwd=scratch)
    # A typo in a field must fail: the check has teeth.
    (scratch / "main.ts").write_text(TYPESCRIPT_PROGRAM.replace("created.data.pagination ??", "created.data.meta ??"))
    with pytest.raises(AssertionError, match="meta"):
        _tsc(scratch, "main.ts")
    (scratch / "main.ts").write_text(TYPESCRIPT_PROGRAM.replace("created.data.pagination ?? ", ""))
    _tsc(scratch, "main.ts")


def test_openapi_generator_typescript_fetch_output_type_checks(scratch: Path) -> None:
    """openapi-generator's jar ships in the openapi-generator-cli wheel: it runs offline, on Java 17."""
    generator = _tool(PY_BIN, "openapi-generator-cli")
    if shutil.which("java") is None:
        pytest.skip("no Java runtime (.ci/run installs Debian's openjdk-17-jre-headless): openapi-generator not run")
    output = scratch / "client"
    _run(generator, "generate", "-i", str(SPEC_JSON), "-g", "typescript-fetch", "-o", str(output), timeout=400)
    models = {path.stem for path in (output / "models").glob("*.ts")}
    assert {"SlotListEnvelope", "Slot", "ControlRuleAddedEnvelope", "RuleRequest"} <= models
    assert "Array<Slot>" in (output / "models" / "SlotListEnvelope.ts").read_text()
    _tsc(output, "index.ts")


# --- Postman's runner and Prism's validating proxy -------------------------------------------------------------


def test_newman_runs_the_served_collection_without_a_failure(sandbox: str, scratch: Path) -> None:
    newman = _tool(NODE_BIN, "newman")
    collection = scratch / "collection.json"
    with urllib.request.urlopen(f"{sandbox}/__mock/postman.json") as answer:
        collection.write_bytes(answer.read())
    report = scratch / "report.json"
    _run(newman, "run", str(collection), "--reporters", "json", "--reporter-json-export", str(report))
    stats = json.loads(report.read_text())["run"]["stats"]
    assert stats["requests"]["failed"] == 0 and stats["assertions"]["failed"] == 0
    assert stats["assertions"]["total"] > 40 and stats["requests"]["total"] > 20


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _get(url: str, headers: dict[str, str]) -> tuple[int, dict[str, object]]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.load(answer)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def test_prism_validating_proxy_passes_forced_errors_unchanged(sandbox: str, work: Path) -> None:
    """Prism matched the explicit 400 (INVALID_PARAMETER only) before `default` and answered its own 500."""
    prism = _tool(NODE_BIN, "prism")
    port = _free_port()
    log_path = work / f"prism.{uuid.uuid4().hex}.log"
    log = log_path.open("w+")
    process = subprocess.Popen(
        [prism, "proxy", str(SPEC_JSON), sandbox, "--errors", "--port", str(port), "--host", "127.0.0.1"],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=TOOLS,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert process.poll() is None and time.monotonic() < deadline, "prism did not start"
                time.sleep(0.3)
        cases = [
            ("/api/calendars", "DATE_RANGE_TOO_LARGE", 400),
            ("/api/slots/10001", "SLOT_UNAVAILABLE", 409),
            ("/api/appointments", "AUTH_INVALID", 401),
            ("/api/clients/1001", "INTERNAL_ERROR", 500),
        ]
        for path, code, status in cases:
            headers = {"X-Mock-Scenario": code, "Access-Token": DEFAULT_TOKEN}
            direct = _get(sandbox + path, headers)
            proxied = _get(f"http://127.0.0.1:{port}{path}", headers)
            assert direct[0] == status and direct[1]["error_code"] == code
            assert proxied == direct, (path, code, proxied)
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.seek(0)
        output = log.read()
        log.close()
        log_path.unlink()
    assert "violation" not in output.lower(), output[-3000:]


# --- the image and the workflows --------------------------------------------------------------------------------


def test_hadolint_finds_nothing_in_the_dockerfile() -> None:
    hadolint = _tool(PY_BIN, "hadolint")
    _run(hadolint, str(ROOT / "Dockerfile"), cwd=ROOT)


def test_actionlint_finds_nothing_in_the_workflows() -> None:
    actionlint = _tool(PY_BIN, "actionlint")
    workflows = sorted(str(path) for path in (ROOT / ".github" / "workflows").glob("*.yml"))
    assert len(workflows) >= 2
    if shutil.which("shellcheck") is None:
        pytest.skip("no shellcheck (.ci/run installs Debian's): actionlint would not check the workflows' scripts")
    _run(actionlint, *workflows, cwd=ROOT)
