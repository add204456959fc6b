"""Joining a Dask cluster fails fast and clearly: a port that accepts and never answers is given up
within the connect timeout (10 s, as docs/scale.md says); an address of a scheme standoff does
not support, or tls:// without dask's TLS settings, is refused before anything starts; a peer
that announces a gigantic message is refused before any memory is set aside. TLS with its
settings works and gives the local answer. Every refusal is one `error:` line, exit status 2."""

from __future__ import annotations

import asyncio
import logging
import shutil
import struct
import subprocess
import sys
import time
from contextlib import AbstractContextManager
from pathlib import Path

import pytest
from typer.testing import CliRunner

from standoff.cli import app
from standoff.run import backends, dask_executor

from .listeners import silent_listener

runner = CliRunner()
FORECAST = ["forecast", "us-dprk-2018", "--draws", "30", "--seed", "3"]


def _refused(args: list[str], says: str, within: float = 15) -> str:
    """The command ends within `within` seconds with exit status 2 and one `error:` line that
    contains `says`; gives that line."""
    start = time.monotonic()
    result = runner.invoke(app, args)
    assert time.monotonic() - start < within
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = [x for x in result.stderr.splitlines() if x.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert says in lines[0], lines[0]
    return lines[0]


def test_a_silent_scheduler_is_given_up_within_the_timeout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(backends, "CONNECT_TIMEOUT", 2.0)
    with silent_listener() as port:
        address = f"tcp://127.0.0.1:{port}"
        line = _refused(
            ["forecast", "--draws", "10", "--backend", "dask", "--scheduler", address],
            f"--scheduler {address}: no Dask scheduler answered within 2 s",
        )
    assert "dask scheduler" in line


def test_the_command_line_gives_up_on_a_silent_scheduler_by_itself() -> None:
    """The real command with its default timeout: the 10 s docs/scale.md promises."""
    assert backends.CONNECT_TIMEOUT == 10
    with silent_listener() as port:
        address = f"tcp://127.0.0.1:{port}"
        start = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-m", "standoff.cli", "forecast", "--draws", "10", "--backend",
             "dask", "--scheduler", address],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        took = time.monotonic() - start
    assert done.returncode == 2, done.stderr
    assert took < 30
    lines = [x for x in done.stderr.splitlines() if x.strip()]
    assert len(lines) == 1
    assert lines[0].startswith(
        f"error: --scheduler {address}: no Dask scheduler answered within 10 s"
    )


@pytest.mark.parametrize(
    ("address", "says"),
    [
        ("ucx://127.0.0.1:8786", "the scheme ucx:// is not supported; give tcp://HOST:PORT, or tls://"),
        ("inproc://127.0.0.1/1/2", "the scheme inproc:// is not supported"),
        ("ws://127.0.0.1:8786", "the scheme ws:// is not supported"),
        ("tcp://127.0.0.1", "give the scheduler as tcp://HOST:PORT"),
        ("tcp://127.0.0.1:99999", "not an address (Port out of range"),
        ("tcp://:8786", "give the scheduler as tcp://HOST:PORT"),
        ("tcp://127.0.0.1:8786/path", "give the scheduler as tcp://HOST:PORT"),
    ],
)  # fmt: skip
def test_an_address_standoff_cannot_join_is_refused_up_front(address: str, says: str) -> None:
    for command in (["forecast", "--draws", "10"], ["sensitivity"]):
        _refused([*command, "--backend", "dask", "--scheduler", address],
                 f"--scheduler {address}: {says}", within=10)  # fmt: skip
    with pytest.raises(backends.BackendError, match="--scheduler"):
        backends.scheme(address)


def test_tls_without_dask_settings_is_a_clear_error() -> None:
    import dask

    with dask.config.set({"distributed.comm.tls.ca-file": None}):
        _refused(
            ["forecast", "--draws", "10", "--backend", "dask", "--scheduler", "tls://127.0.0.1:1"],
            "tls:// needs dask's TLS settings for a client: distributed.comm.tls.ca-file",
            within=10,
        )
    with dask.config.set({"distributed.comm.tls.ca-file": "/no/such/ca.pem",
                          "distributed.comm.tls.client.cert": "/no/such/cert.pem"}):  # fmt: skip
        _refused(
            ["forecast", "--draws", "10", "--backend", "dask", "--scheduler", "tls://127.0.0.1:1"],
            "--scheduler tls://127.0.0.1:1: dask's TLS settings: ",
            within=10,
        )


def _certificates(folder: Path) -> tuple[Path, Path, Path]:
    """A certificate authority and one certificate it signed, with its key (openssl)."""

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True)

    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out",
            "ca.pem", "-days", "2", "-subj", "/CN=standoff-test-ca")  # fmt: skip
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "node.key", "-out", "node.csr",
            "-subj", "/CN=standoff-test-node")  # fmt: skip
    openssl("x509", "-req", "-in", "node.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", "node.pem", "-days", "2")  # fmt: skip
    return folder / "ca.pem", folder / "node.pem", folder / "node.key"


@pytest.mark.skipif(
    shutil.which("openssl") is None, reason="openssl (to make certificates) missing"
)
def test_a_tls_scheduler_with_dask_settings_gives_the_local_answer(tmp_path: Path) -> None:
    import dask
    from distributed import LocalCluster
    from distributed.security import Security

    ca, cert, key = (str(p) for p in _certificates(tmp_path))
    security = Security(
        tls_ca_file=ca, tls_scheduler_cert=cert, tls_scheduler_key=key, tls_worker_cert=cert,
        tls_worker_key=key, tls_client_cert=cert, tls_client_key=key, require_encryption=True,
    )  # fmt: skip
    local, on_tls = tmp_path / "local.json", tmp_path / "tls.json"
    assert runner.invoke(app, [*FORECAST, "--json", str(local)]).exit_code == 0
    with LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, protocol="tls", host="127.0.0.1",
        security=security, dashboard_address="127.0.0.1:0", silence_logs=logging.ERROR,
    ) as cluster, dask.config.set({
        "distributed.comm.tls.ca-file": ca, "distributed.comm.tls.client.cert": cert,
        "distributed.comm.tls.client.key": key,
    }):  # fmt: skip
        assert cluster.scheduler_address.startswith("tls://")
        result = runner.invoke(
            app, [*FORECAST, "--json", str(on_tls), "--backend", "dask", "--scheduler",
                  cluster.scheduler_address],
        )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert on_tls.read_bytes() == local.read_bytes()


def announcing(nbytes: int) -> AbstractContextManager[int]:
    """A port of 127.0.0.1 whose every connection is sent the length prefix of a message of
    `nbytes` bytes (what a Dask peer sends first), and nothing more; its number."""
    return silent_listener(struct.pack("Q", nbytes))


@pytest.mark.parametrize("nbytes", [2**62, dask_executor.MAX_FRAME_BYTES + 1])
def test_a_peer_announcing_a_gigantic_message_is_refused(nbytes: int) -> None:
    with announcing(nbytes) as port:
        address = f"tcp://127.0.0.1:{port}"
        _refused(
            ["forecast", "--draws", "10", "--backend", "dask", "--scheduler", address],
            f"--scheduler {address}: not a Dask scheduler: the peer announced a message of "
            f"{nbytes:,} bytes",
        )


def test_every_dask_read_is_bounded_before_it_allocates() -> None:
    """Once a client has been made, any message longer than MAX_FRAME_BYTES (2^62 bytes would be
    4 EiB) is refused by the read itself, before memory is asked for."""
    from distributed.comm import tcp

    dask_executor.limit_frames()
    dask_executor.limit_frames()  # once is enough; twice changes nothing
    with pytest.raises(dask_executor.FrameTooLarge, match="4,611,686,018,427,387,904 bytes"):
        asyncio.run(tcp.read_bytes_rw(None, 2**62))  # type: ignore[arg-type]
    assert getattr(tcp.read_bytes_rw, "standoff_bounded", False)
