"""A throwaway PostgreSQL cluster on 127.0.0.1 for tests (Debian's postgresql, installed by `make sysdeps`).

initdb refuses to run as root, so under root the cluster belongs to the ``postgres`` user (runuser).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path


@dataclass
class PostgresServer:
    base: Path
    port: int
    bin_dir: Path
    as_owner: list[str]

    @property
    def url(self) -> str:
        """SQLAlchemy URL of the cluster's ``postgres`` database (psycopg 3 driver, trust auth)."""
        return f"postgresql+psycopg://shipyard@127.0.0.1:{self.port}/postgres"

    def stop(self) -> None:
        subprocess.run(
            [
                *self.as_owner,
                str(self.bin_dir / "pg_ctl"),
                "-D",
                str(self.base / "data"),
                "-m",
                "immediate",
                "stop",
            ],
            capture_output=True,
            check=False,
            timeout=60,
        )
        shutil.rmtree(self.base, ignore_errors=True)


def start_postgres() -> PostgresServer:
    """initdb + pg_ctl start on a free port; fsync off (a test cluster)."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    assert found, "PostgreSQL server binaries are missing: run `make sysdeps` (Debian package postgresql)"
    bin_dir = found[-1].parent
    base = Path(tempfile.mkdtemp(prefix="shipyard-pg-"))
    as_owner = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    if as_owner:
        shutil.chown(base, "postgres", "postgres")
    initdb = [
        str(bin_dir / "initdb"),
        "-D",
        str(base / "data"),
        "-U",
        "shipyard",
        "--auth=trust",
        "-E",
        "UTF8",
    ]
    subprocess.run([*as_owner, *initdb, "--no-sync"], check=True, capture_output=True, timeout=120)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    options = f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off"
    start = [str(bin_dir / "pg_ctl"), "-D", str(base / "data"), "-o", options, "-l", str(base / "server.log")]
    done = subprocess.run([*as_owner, *start, "-w", "start"], capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        log = (
            (base / "server.log").read_text(errors="replace")[-2000:]
            if (base / "server.log").exists()
            else ""
        )
        shutil.rmtree(base, ignore_errors=True)
        raise RuntimeError(f"pg_ctl start failed: {done.stderr[-1000:]}\n{log}")
    return PostgresServer(base, port, bin_dir, as_owner)
