"""A summary of the fidelity run: operations and passes per direction and per service."""

from __future__ import annotations

from collections import defaultdict

_MODULE = "test_fidelity.py::"
_DIRECTIONS = {"test_parse": "parse", "test_serialize": "serialize"}
_outcomes: dict[str, str] = {}


def pytest_runtest_logreport(report) -> None:
    if _MODULE not in report.nodeid:
        return
    if report.failed:
        _outcomes[report.nodeid] = "failed"
    elif report.when == "call" or (report.when == "setup" and report.skipped):
        _outcomes.setdefault(report.nodeid, report.outcome)


def _split(nodeid: str) -> tuple[str, str, str] | None:
    """(direction, service, protocol) from ...::test_parse[s3-rest-xml-PutObject]."""
    name, _, rest = nodeid.rpartition("::")[2].partition("[")
    direction = _DIRECTIONS.get(name)
    if direction is None or not rest:
        return None
    case = rest.rstrip("]")
    service, _, tail = case.partition("-")
    protocol = tail.rpartition("-")[0]
    return direction, service, protocol


def pytest_terminal_summary(terminalreporter) -> None:
    if not _outcomes:
        return
    totals: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    per_service: dict[tuple[str, str], dict[str, dict[str, int]]] = defaultdict(lambda: defaultdict(lambda: defaultdict(int)))
    for nodeid, outcome in _outcomes.items():
        split = _split(nodeid)
        if split is None:
            continue
        direction, service, protocol = split
        totals[direction][outcome] += 1
        per_service[(service, protocol)][direction][outcome] += 1
    write = terminalreporter.write_line
    terminalreporter.section("fidelity")
    for direction in ("parse", "serialize"):
        counts = totals.get(direction)
        if not counts:
            continue
        write(
            f"fidelity {direction}: {sum(counts.values())} operations, {counts['passed']} passed, "
            f"{counts['failed']} failed, {counts['skipped']} skipped"
        )
    for (service, protocol), directions in sorted(per_service.items()):
        cells = []
        for direction in ("parse", "serialize"):
            counts = directions.get(direction)
            if counts:
                cells.append(f"{direction} {counts['passed']}/{sum(counts.values())}")
        write(f"  {service:<14} {protocol:<19} " + "  ".join(cells))
