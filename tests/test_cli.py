"""``pictograph-fake`` as a user runs it, and the SDK's own ``pictograph`` CLI against it.

Each server here is a ``pictograph-fake serve --port 0`` subprocess on loopback, stopped
(SIGTERM, then SIGKILL after a bounded wait) when its test ends. The SDK's CLI runs as a
subprocess too, configured only through ``PICTOGRAPH_BASE_URL`` and
``PICTOGRAPH_API_KEY``, with ``HOME`` in a temporary directory so no config file of the
machine's is read.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pictograph
import pytest

from pictograph_testing.cli import CONTROL_KEY_ENV, main
from pictograph_testing.server import CONTROL_KEY_HEADER

if TYPE_CHECKING:
    from collections.abc import Iterator

BIN = Path(sys.executable).parent
DEADLINE = 60.0
"""Seconds any one subprocess may take before the test fails instead of hanging."""


def _script(name: str) -> str:
    path = BIN / name
    if not path.exists():
        pytest.skip(f"the {name} console script is not installed next to {sys.executable}")
    return str(path)


@functools.cache
def _sdk_cli_works() -> bool:
    try:
        done = subprocess.run(
            [str(BIN / "pictograph"), "train", "--help"],
            capture_output=True,
            timeout=DEADLINE,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


@contextlib.contextmanager
def _serving(*options: str) -> Iterator[dict[str, str]]:
    """Run ``pictograph-fake serve --port 0 ...``; yield the environment it printed."""
    process = subprocess.Popen(
        [_script("pictograph-fake"), "serve", "--port", "0", *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        printed: dict[str, str] = {}
        # The first lines come at once (before uvicorn starts); readline returns "" if
        # the process dies, so this loop is bounded by the six lines it prints.
        for _ in range(6):
            line = process.stdout.readline()
            if line.strip().startswith("dashboard: "):
                printed["dashboard"] = line.strip().removeprefix("dashboard: ")
            if "=" in line and "export " in line:
                name, _, value = line.strip().removeprefix("export ").partition("=")
                printed[name] = value
        assert {"PICTOGRAPH_BASE_URL", "PICTOGRAPH_API_KEY"} <= set(printed), printed
        # No wait for uvicorn: the port listens from the first line on, so a client may
        # connect at once, as a script reading these lines does.
        yield printed
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def _wait_until_answering(base_url: str) -> None:
    """Until uvicorn answers: the port listens from the first printed line, but a signal
    sent before uvicorn has installed its handlers would not be the graceful Ctrl-C."""
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"{base_url}/_fake/clock", timeout=2).status_code == 200:
                return
        time.sleep(0.05)
    raise AssertionError(f"nothing answered at {base_url}")


def _sdk_cli(env: dict[str, str], home: Path, *arguments: str) -> Any:
    """Run the SDK's ``pictograph`` command; return its JSON output."""
    if not _sdk_cli_works():
        pytest.skip("the SDK's `pictograph` CLI is not usable here (pip install pictograph[cli])")
    done = subprocess.run(
        [str(BIN / "pictograph"), *arguments],
        env={**os.environ, **env, "HOME": str(home), "NO_COLOR": "1", "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=DEADLINE,
        check=False,
    )
    assert done.returncode == 0, (done.stdout, done.stderr)
    return json.loads(done.stdout)


# ── the SDK's own CLI against `pictograph-fake serve` ──


@pytest.mark.slow  # subprocesses: scripts/test_slow.sh
def test_the_sdk_cli_starts_a_run_and_waits_for_it(tmp_path: Path) -> None:
    with _serving("--scenario", "ready-to-train", "--speed", "0") as env:
        started = _sdk_cli(
            env,
            tmp_path,
            "train",
            "start",
            "road-signs",
            "road-signs-v1",
            "--pipeline",
            "yolox",
            "--name",
            "cli-run",
            "--no-wait",
        )
        assert started["status"] == "queued"
        # Time stands still (--speed 0) until the control route moves it.
        moved = httpx.post(
            f"{env['PICTOGRAPH_BASE_URL']}/_fake/clock/advance",
            json={"hours": 1},
            headers={CONTROL_KEY_HEADER: env[CONTROL_KEY_ENV]},
        )
        assert moved.status_code == 200
        finished = _sdk_cli(
            env, tmp_path, "train", "wait", started["run_id"], "--poll-interval", "0.1"
        )
        assert finished["status"] == "completed"
        assert finished["name"] == "cli-run"
        assert finished["model_id"]


@pytest.mark.slow  # subprocesses: scripts/test_slow.sh
def test_with_a_fast_clock_the_sdk_cli_waits_in_real_time(tmp_path: Path) -> None:
    with _serving("--scenario", "ready-to-train", "--speed", "3000") as env:
        started = _sdk_cli(
            env,
            tmp_path,
            "train",
            "start",
            "road-signs",
            "road-signs-v1",
            "--pipeline",
            "yolox",
            "--no-wait",
        )
        finished = _sdk_cli(
            env,
            tmp_path,
            "train",
            "wait",
            started["run_id"],
            "--poll-interval",
            "0.05",
            "--timeout",
            "30",
        )
        assert finished["status"] == "completed"
        assert finished["progress"] == 100


# ── pictograph-fake itself ──


@pytest.mark.slow  # subprocesses: scripts/test_slow.sh
def test_the_demo_runs_the_guides_path_on_the_virtual_clock() -> None:
    done = subprocess.run(
        [_script("pictograph-fake"), "demo"],
        capture_output=True,
        text=True,
        timeout=DEADLINE,
        check=False,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    out = done.stdout
    for expected in (
        "export 'road-signs-v1' completed",
        "yolox-run-1",
        "running",
        "CUDA out of memory",
        "cancelled",
        "training_a10g_per_minute",
        "training_refund_a10g",
        "downloaded model.onnx",
        "ms of wall time",
    ):
        assert expected in out, expected
    # How long it took is the benchmarks' business; that minutes passed is the demo's.
    minutes = re.search(r"(\d+) virtual minutes and (\d+) requests", out)
    assert minutes is not None
    assert int(minutes.group(1)) >= 10
    # Money in dollars, exact: every balance is the one before it plus the entry's amount.
    estimate = re.search(r"cost \$[\d.]+ \(sufficient: True\); balance \$([\d,.]+)\n", out)
    assert estimate is not None
    ledger = re.findall(r"\n  (training_\S+) +([-+])\$([\d.]+) +balance +\$([\d,.]+) ", out)
    assert len(ledger) == 6
    balance = Decimal(estimate.group(1).replace(",", ""))
    for _, sign, amount, after in ledger:
        balance += Decimal(sign + amount)
        assert Decimal(after.replace(",", "")) == balance
    assert "µUSD" not in out


def test_the_demo_is_deterministic(capsys: pytest.CaptureFixture[str]) -> None:
    def without_wall_time(text: str) -> str:
        return text.rsplit(" in ", 1)[0]

    assert main(["demo", "--seed", "2"]) == 0
    first = capsys.readouterr().out
    assert main(["demo", "--seed", "2"]) == 0
    assert without_wall_time(capsys.readouterr().out) == without_wall_time(first)


@pytest.mark.parametrize(
    ("arguments", "said"),
    [
        (["--seed", "-1"], "--seed must be from 0 to 2**53, got -1"),
        (["--seed", str(2**70)], "--seed must be from 0 to 2**53"),
        (["--report", ""], "--report: '' is no file to write"),
    ],
)
def test_the_demo_refuses_bad_arguments_before_it_runs(
    capsys: pytest.CaptureFixture[str], arguments: list[str], said: str
) -> None:
    assert main(["demo", *arguments]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""  # refused before the demo began
    assert said in captured.err
    assert "Traceback" not in captured.err


def test_the_demo_refuses_a_report_that_is_a_folder(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["demo", "--report", str(tmp_path)]) == 2
    assert "is no file to write" in capsys.readouterr().err


def test_a_folder_named_like_a_scenario_file_is_no_scenario(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "folder.json").mkdir()
    (tmp_path / "mine.json").write_text('{"schema_version": 1}')
    assert main(["scenarios", "--scenario-dir", str(tmp_path)]) == 0
    listed = capsys.readouterr().out.split()
    assert "mine" in listed
    assert "folder" not in listed


def test_scenarios_lists_the_names_serve_takes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scenarios"]) == 0
    assert "ready-to-train" in capsys.readouterr().out.split()


def test_serve_refuses_an_unknown_scenario(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--port", "0", "--scenario", "no-such-world"]) == 2
    assert "unknown scenario 'no-such-world'" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["scenarios", "serve"])
def test_a_scenario_dir_that_is_not_a_folder_is_refused(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    extra = ["--port", "0"] if command == "serve" else []
    a_file = tmp_path / "worlds.json"
    a_file.write_text("{}")
    for folder, why in ((tmp_path / "no-such-folder", "nothing there"), (a_file, "a file")):
        assert main([command, *extra, "--scenario-dir", str(folder)]) == 2
        captured = capsys.readouterr()
        assert captured.err == (
            f"pictograph-fake: --scenario-dir: no scenario folder at {folder} ({why}"
            + (", not a folder)\n" if why == "a file" else ")\n")
        )
        assert captured.out == ""


def test_serve_refuses_a_port_in_use(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["serve", "--port", str(port)]) == 1
    assert f"cannot listen on 127.0.0.1:{port}" in capsys.readouterr().err


@pytest.mark.parametrize("port", ["99999", "-1"])
def test_serve_refuses_a_port_out_of_range(port: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["serve", "--port", port])
    assert stopped.value.code == 2  # a usage error, not a traceback
    assert "a port is 0 (any free one) to 65535" in capsys.readouterr().err


@pytest.mark.slow  # subprocesses: scripts/test_slow.sh
def test_no_control_auth_wins_over_a_key_left_in_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The variable an earlier `serve` told the user to export.
    monkeypatch.setenv(CONTROL_KEY_ENV, "left-over")
    with _serving("--no-control-auth") as printed:
        assert CONTROL_KEY_ENV not in printed
        opened = httpx.get(f"{printed['PICTOGRAPH_BASE_URL']}/_fake/clock", timeout=5)
        assert opened.status_code == 200


def test_serve_refuses_a_negative_speed(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--port", "0", "--speed", "-1"]) == 2
    assert "--speed" in capsys.readouterr().err


@pytest.mark.slow  # subprocesses: scripts/test_slow.sh
def test_a_client_is_answered_the_moment_serve_prints_its_url() -> None:
    """A script reads the first line and connects at once; uvicorn starts some 25 ms
    later, but the port already listens: the SDK's first request waits and is answered
    (it was refused: a NetworkError, curl's exit 7)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # Made beforehand, so its request leaves the moment the line is read.
    client = pictograph.Client("pk_live_cli", base_url=f"http://127.0.0.1:{port}", max_retries=0)
    process = subprocess.Popen(
        [_script("pictograph-fake"), "serve", "--port", str(port), "--api-key", "pk_live_cli"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        with client:
            balance = client.credits.balance()
        assert first == f"pictograph-fake serving http://127.0.0.1:{port}\n"
        assert balance.included_allowance_micro_usd == 100_000_000
    finally:
        process.terminate()
        process.wait(timeout=10)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


@pytest.mark.slow  # subprocesses: scripts/test_slow.sh
def test_the_dashboards_address_carries_a_key_of_any_characters() -> None:
    """'%' and '&' in the control key are percent-encoded in the fragment: the page's
    script decodes it whole (a raw '%' threw, a raw '&' cut the key short)."""
    from urllib.parse import unquote

    key = "50%off&fish=chips"
    with _serving("--control-key", key, "--speed", "0") as env:
        fragment = env["dashboard"].partition("#key=")[2]
        assert "%" not in unquote(fragment).replace(key, "")
        assert unquote(fragment) == key
        assert "&" not in fragment


@pytest.mark.slow  # subprocesses: scripts/test_slow.sh
def test_serve_prints_what_a_client_needs(tmp_path: Path) -> None:
    with _serving("--api-key", "pk_live_cli", "--seed", "4", "--speed", "0") as env:
        assert env["PICTOGRAPH_API_KEY"] == "pk_live_cli"
        base_url = env["PICTOGRAPH_BASE_URL"]
        assert base_url.startswith("http://127.0.0.1:")
        info = httpx.get(
            f"{base_url}/_fake/", headers={CONTROL_KEY_HEADER: env[CONTROL_KEY_ENV]}
        ).json()
        assert (info["seed"], info["speed"], info["api_key"]) == (4, 0.0, "pk_live_cli")
        # The dashboard's address carries the key in its fragment, which no request sends.
        assert env["dashboard"] == f"{base_url}/_fake/ui#key={env[CONTROL_KEY_ENV]}"
        page = httpx.get(env["dashboard"])
        assert page.status_code == 200
        assert 'id="timeline"' in page.text


@pytest.mark.slow  # subprocesses: scripts/test_slow.sh
def test_ctrl_c_stops_serve_quietly() -> None:
    process = subprocess.Popen(
        [_script("pictograph-fake"), "serve", "--port", "0", "--speed", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first.startswith("pictograph-fake serving "), first
        _wait_until_answering(first.split()[-1])
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=DEADLINE)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate(timeout=10)
    # Ctrl-C is how `serve` is stopped: a clean exit, no KeyboardInterrupt traceback.
    assert (process.returncode, err) == (0, "")


@pytest.mark.slow
def test_serve_names_its_public_url_for_clients() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    public = f"http://localhost:{port}"
    process = subprocess.Popen(
        [_script("pictograph-fake"), "serve", "--port", str(port), "--public-url", public],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        first, second = process.stdout.readline(), process.stdout.readline()
        assert first == f"pictograph-fake serving {public} (bound to http://127.0.0.1:{port})\n"
        assert second == f"  export PICTOGRAPH_BASE_URL={public}\n"
        _wait_until_answering(public)
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=DEADLINE)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate(timeout=10)


@pytest.mark.parametrize(
    ("option", "value", "said"),
    [
        ("--balance-usd", "inf", "balance_usd must be a number of dollars from 0 to"),
        ("--balance-usd", "nan", "balance_usd must be a number of dollars from 0 to"),
        ("--balance-usd", "-5", "balance_usd must be a number of dollars from 0 to"),
        ("--journal-limit", "9" * 20, "journal_limit must be a whole number from 1 to"),
        ("--public-url", "ftp://fake:8765", "--public-url: public URL 'ftp://fake:8765' must"),
        ("--public-url", "http://fake:8765/v1", "must be a scheme, a host and a port only"),
    ],
)
def test_serve_refuses_settings_out_of_bounds(
    option: str, value: str, said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # A usage error before anything is served: no traceback, the port not kept.
    assert main(["serve", "--port", "0", option, value]) == 2
    captured = capsys.readouterr()
    assert said in captured.err
    assert "Traceback" not in captured.err
    assert captured.out == ""
