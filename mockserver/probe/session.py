"""One probe run: check both sides are the API, agree on the token, run the script, compare, book if asked.

1. The target's ``GET /api/`` must be a JSON envelope (else: wrong URL, one line, exit 2); its timestamp
   is the clock the sandbox is started with (unless ``--sandbox URL``).
2. The token: the target must accept it. A refusal is a usage error, unless the sandbox accepts the same
   token: then the two disagree about one key (a key of the other environment, say), which is one
   difference, and the calls that need a token are not compared. The sandbox is sent the user's token
   only when it runs on this machine; otherwise it gets the default sandbox account's, or
   ``--sandbox-token``.
3. Every call of the script on both sides, then the comparison, call by call.
4. With ``--allow-writes`` and a confirmation: two bookings the API must refuse, then one booking that is
   cancelled at once, on each side. The cancellation is sent even when the run is out of budget.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from importlib import metadata

from mockserver.auth import make_token
from mockserver.probe import consistency, sections, spawn
from mockserver.probe.calls import Call, Observation
from mockserver.probe.compare import Difference, compare
from mockserver.probe.fetch import Answer, Fetcher, Limits, ProbeError, api_root, is_loopback, shown_url
from mockserver.probe.report import Result, SideInfo, group
from mockserver.probe.script import PROBE_CLIENT, READS, WRITES
from mockserver.probe.shapes import error_code, format_of, parse_json
from mockserver.probe.side import Side
from mockserver.protocol import TOKEN_HEADER

#: The default account of every sandbox (README, "Access tokens"); public, it is the sandbox's.
SANDBOX_ACCOUNT = ("sandbox", "sandbox-secret-key-change-me")
_AUTH_CODES = ("AUTH_REQUIRED", "AUTH_INVALID")


def version() -> str:
    try:
        return metadata.version("tap4book-mockserver")
    except metadata.PackageNotFoundError:
        return "dev"


@dataclass
class Settings:
    against: str
    token: str
    sandbox: str | None = None
    sandbox_token: str | None = None
    limits: Limits | None = None
    allow_writes: bool = False
    assume_yes: bool = False
    confirm: Callable[[str], bool] = lambda question: False


def run(settings: Settings) -> Result:
    """The whole run; ProbeError for a usage or connection problem (nothing is compared then)."""
    limits = (settings.limits or Limits()).start()
    started = time.monotonic()
    user_agent = f"tap4book-mock-probe/{version()}"
    target = Fetcher(api_root(settings.against), "target", limits, paced=True, user_agent=user_agent)
    target_clock = _preflight(target)
    with _sandbox(settings, target_clock) as (sandbox_url, started_by_probe):
        sandbox = Fetcher(api_root(sandbox_url), "sandbox", limits, paced=False, user_agent=user_agent)
        sandbox_clock = _preflight(sandbox)
        result = Result(
            version=version(),
            started_at=datetime.now(UTC).isoformat(timespec="seconds"),
            target=SideInfo(shown_url(target.root), target_clock),
            sandbox=SideInfo(shown_url(sandbox.root), sandbox_clock, started_by_probe=started_by_probe),
            options=_options(settings, limits),
        )
        target_side = Side("target", target, settings.token, _today(target_clock))
        sandbox_side = Side("sandbox", sandbox, "", _today(sandbox_clock))
        differences = _tokens(settings, target_side, sandbox_side)
        refuse = "the target refused the token (see auth.token)" if differences else None
        for call in READS:
            stop = refuse if call.auth in ("token", "param") else None
            target_side.observe(call, refuse=stop)
            sandbox_side.observe(call, refuse=stop)
        if settings.allow_writes:
            _writes(settings, result, target_side, sandbox_side, refused=bool(differences))
        differences += _compare_all(result, target_side, sandbox_side)
        result.findings = group(differences)
        result.rules = {side.label: _rule_summary(side) for side in (sandbox_side, target_side)}
        result.target.requests, result.sandbox.requests = target.count, sandbox.count
    result.duration_s = time.monotonic() - started
    return result


@contextmanager
def _sandbox(settings: Settings, clock: str | None) -> Iterator[tuple[str, bool]]:
    if settings.sandbox:
        yield settings.sandbox, False
        return
    with spawn.sandbox(_now_for_sandbox(clock)) as url:
        yield url, True


def _now_for_sandbox(clock: str | None) -> str:
    """The target's instant, frozen, for the sandbox; the real time when the target's is unreadable."""
    if clock:
        try:
            moment = datetime.fromisoformat(clock.replace("Z", "+00:00"))
            if moment.tzinfo is not None:
                return moment.isoformat()
        except ValueError:
            pass
    return datetime.now(UTC).isoformat(timespec="seconds")


def _today(clock: str | None) -> date:
    if clock and len(clock) >= 10:
        try:
            return date.fromisoformat(clock[:10])
        except ValueError:
            pass
    return datetime.now(UTC).date()


def _preflight(fetcher: Fetcher) -> str | None:
    """The side's clock from ``GET /api/``, or ProbeError when the answer is not the API's envelope."""
    answer = fetcher.request("GET", "/", headers={"Accept": "application/json"})
    where = f"the {fetcher.label} at {shown_url(fetcher.root)}"
    if format_of(answer) != "json":
        raise ProbeError(
            f"{where} answered {answer.media_type or 'no Content-Type'} (HTTP {answer.status}) to GET /api/, "
            "not the TAP4BOOK API's JSON: is the URL the API root (https://host/api)?"
        )
    try:
        body = parse_json(answer.body)
    except ValueError as exc:
        raise ProbeError(f"{where}: GET /api/ is {exc}") from None
    if not isinstance(body, dict) or "success" not in body:
        raise ProbeError(f"{where}: GET /api/ is JSON but not a TAP4BOOK envelope (no 'success')")
    stamp = body.get("timestamp")
    return stamp if isinstance(stamp, str) else None


def _check(side: Side, token: str) -> Answer:
    return side.fetcher.request(
        "GET", "/calendars", [("per_page", "1")], {TOKEN_HEADER: token, "Accept": "application/json"}
    )


def _refused(answer: Answer) -> bool:
    return answer.status in (401, 403) or error_code(answer) in _AUTH_CODES


def _tokens(settings: Settings, target: Side, sandbox: Side) -> list[Difference]:
    """Choose the sandbox's token; the one difference when only the target refuses the same token."""
    target_answer = _check(target, settings.token)
    same_answer = None
    if settings.sandbox_token:
        sandbox.token = settings.sandbox_token
    elif is_loopback(sandbox.fetcher.root):
        same_answer = _check(sandbox, settings.token)
        sandbox.token = settings.token if not _refused(same_answer) else make_token(*SANDBOX_ACCOUNT)
    else:
        sandbox.token = make_token(*SANDBOX_ACCOUNT)
    sandbox.context["token"] = sandbox.token
    if sandbox.token != settings.token:
        own = _check(sandbox, sandbox.token)
        if _refused(own):
            raise ProbeError(
                f"the sandbox at {shown_url(sandbox.fetcher.root)} refused its token "
                f"({own.status} {error_code(own)}): pass --sandbox-token"
            )
    if not _refused(target_answer):
        return []
    code = f"{target_answer.status} {error_code(target_answer)}"
    if same_answer is None or _refused(same_answer):
        raise ProbeError(
            f"the target refused the token ({code}): check --token, or --account and --secret "
            "(or T4B_PROBE_SECRET), and that the key is for this environment"
        )
    return [
        Difference(
            "auth.token",
            "GET /api/calendars?per_page=1",
            "(status)",
            "auth",
            f"{same_answer.status} {error_code(same_answer)}",
            code,
            sections.AUTH,
            detail="the same token: accepted by the sandbox, refused by the target; "
            "the calls that need a token were not compared",
        )
    ]


def _writes(settings: Settings, result: Result, target: Side, sandbox: Side, *, refused: bool) -> None:
    if refused:
        result.notes.append("--allow-writes: nothing written, the target refused the token")
        return
    missing = [side.label for side in (target, sandbox) if "free_slot_id" not in side.context]
    if missing:
        result.notes.append(f"--allow-writes: nothing written, no free slot found on the {' and the '.join(missing)}")
        return
    question = (
        f"Book slot {target.context['free_slot_id']} ({target.context.get('free_slot_label', '')}) of calendar "
        f"{target.context['calendar_id']} on the target {shown_url(target.fetcher.root)} for "
        f"{PROBE_CLIENT['client_firstname']} {PROBE_CLIENT['client_lastname']} <{PROBE_CLIENT['client_email']}>, "
        "and cancel it at once?"
    )
    if not settings.assume_yes and not settings.confirm(question):
        result.notes.append("--allow-writes: nothing written, not confirmed")
        return
    refusals, (book, cancel) = WRITES[:2], WRITES[2:]
    for call in refusals:
        for side in (target, sandbox):
            side.observe(call)
    for side in (target, sandbox):
        booked = None
        try:
            side.observe(book)
            booked = side.context.get("booked_id")
        finally:
            if booked:
                _cancel(result, side, cancel, booked)
        if not booked:
            result.notes.append(f"writes.book: the {side.label} made no booking")


def _cancel(result: Result, side: Side, cancel: Call, booked: str) -> None:
    """Cancel the probe's booking, whatever the budget says; a failure is a loud warning."""
    side.fetcher.essential = True
    try:
        observation = side.observe(cancel)
    except ProbeError as exc:
        result.warnings.append(f"appointment {booked} on the {side.label} may not be cancelled: {exc}")
        raise
    finally:
        side.fetcher.essential = False
    answer = observation.answer
    if answer is None or answer.status != 200:
        status = f"{answer.status} {error_code(answer)}" if answer is not None else observation.skipped
        result.warnings.append(
            f"appointment {booked} on the {side.label} could not be cancelled ({status}): cancel it by hand"
        )
    else:
        result.notes.append(f"writes: appointment {booked} booked and cancelled on the {side.label}")


def _compare_all(result: Result, target: Side, sandbox: Side) -> list[Difference]:
    differences: list[Difference] = []
    for name, theirs in target.observations.items():
        mine = sandbox.observations.get(name)
        result.calls.append(_call_summary(name, mine, theirs))
        if mine is None or mine.answer is None or theirs.answer is None:
            reason = theirs.skipped or (mine.skipped if mine else None) or "not sent"
            result.skipped.append((name, reason))
            continue
        differences += compare(mine, theirs, sandbox, target)
    return differences


def _call_summary(name: str, mine: Observation | None, theirs: Observation) -> dict[str, object]:
    def side(observation: Observation | None) -> dict[str, object] | None:
        if observation is None:
            return None
        answer = observation.answer
        if answer is None:
            return {"skipped": observation.skipped}
        return {
            "request": observation.shown,
            "status": answer.status,
            "content_type": answer.content_type,
            "ms": round(answer.elapsed_ms, 1),
        }

    return {"call": name, "target": side(theirs), "sandbox": side(mine)}


def _rule_summary(side: Side) -> dict[str, object]:
    held, failed = 0, []
    for observation in side.observations.values():
        for rule in consistency.RULES:
            outcome = consistency.outcome(rule, observation, side)
            if outcome == consistency.HOLDS:
                held += 1
            elif outcome is not None:
                failed.append({"rule": rule.id, "call": observation.call.name, "outcome": outcome})
    return {"held": held, "failed": failed}


def _options(settings: Settings, limits: Limits) -> dict[str, object]:
    return {
        "rate": limits.rate,
        "timeout": limits.timeout,
        "max_time": limits.max_time,
        "max_requests": limits.max_requests,
        "allow_writes": settings.allow_writes,
        "sandbox_given": settings.sandbox is not None,
    }
