"""Runs the examples of README.md and docs/**/*.md against a real `auditlog serve`.

Every fenced code block must say what it is, after its language on the opening fence:
- ```sh run, ```python run, ```js run: an example this runner executes;
- ```LANG norun: a block that cannot run here (a compose file, program output, a command that
  starts a long-running server or the test suite itself). An unmarked block is an error, so no
  example goes untested by accident.

How a runnable block runs:
- Each block runs on its own, in a fresh temporary directory, against one server the runner
  started (debug binary, empty data dir, SQLite + local files) with a known API key, and with
  log streams allowed to reach plain-HTTP receivers on loopback (the streams examples start one).
- Before it runs, the docs' placeholders become the real ones: `sk_...` becomes the API key,
  `127.0.0.1:8080` the server's address, `127.0.0.1:9464` its metrics address, and `port: 8080`
  (the Node SDK's option) its port.
- `sh`: bash with `set -euo pipefail`; `auditlog` on PATH is the server's binary. A comment line
  whose text is a JSON value (`# {"success":true}`) is output the block must print.
- `python`: the Python SDK's interpreter (a venv with `workos`); `js`: Node with the Node SDK
  resolvable (the file is written into the SDK's npm prefix).
- A block passes when it exits 0 and prints what it must. A failure is reported with the file
  and line of the block's opening fence.

Usage: run.py --bin BIN --python-sdk VENV --node-sdk PREFIX [--label LABEL] [FILES…]
The last line of output is `N passed, M failed`.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FENCE = re.compile(r"^(\s*)(```+|~~~+)(.*)$")
RUNNERS = {"sh", "bash", "python", "js", "javascript"}
EXAMPLE_TIMEOUT_SECS = 120


@dataclass
class Block:
    path: Path
    line: int
    language: str
    mode: str  # "run", "norun" or "" (unmarked)
    code: str

    @property
    def location(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def blocks_of(path: Path) -> list[Block]:
    found: list[Block] = []
    lines = path.read_text().splitlines()
    i = 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if not opening:
            i += 1
            continue
        indent, fence, info = opening.groups()
        words = info.split()
        start = i
        body: list[str] = []
        i += 1
        while i < len(lines) and not lines[i].strip().startswith(fence):
            line = lines[i]
            body.append(line[len(indent):] if line.startswith(indent) else line)
            i += 1
        i += 1  # the closing fence
        language = words[0] if words else ""
        mode = next((w for w in words[1:] if w in ("run", "norun")), "")
        found.append(Block(path, start + 1, language, mode, "\n".join(body) + "\n"))
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, binary: str, work: Path):
        self.key = "sk_" + secrets.token_hex(24)
        self.port = free_port()
        self.metrics_port = free_port()
        self.log = open(work / "server.log", "wb")
        env = dict(os.environ, AUDITLOG_API_KEYS=self.key, AUDITLOG_LOG="warn")
        self.process = subprocess.Popen(
            [binary, "serve", "--listen", f"127.0.0.1:{self.port}", "--data-dir", str(work / "data"),
             "--metrics-listen", f"127.0.0.1:{self.metrics_port}",
             # The log-stream examples deliver to a receiver the block starts on loopback.
             "--stream-allow-plaintext", "true", "--stream-allow-networks", "127.0.0.0/8",
             "--stream-interval-ms", "100"],
            env=env, stdout=self.log, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while True:
            if self.process.poll() is not None:
                raise SystemExit(f"server exited with {self.process.returncode}; see {work / 'server.log'}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health", timeout=1) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("server did not answer /health within 30 s")
            time.sleep(0.1)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()


def substitute(code: str, server: Server) -> str:
    code = code.replace("sk_...", server.key)
    code = code.replace("127.0.0.1:8080", f"127.0.0.1:{server.port}")
    code = code.replace("127.0.0.1:9464", f"127.0.0.1:{server.metrics_port}")
    return re.sub(r"\bport: 8080\b", f"port: {server.port}", code)


def expected_output(code: str) -> list[str]:
    """Comment lines of a shell block whose text is a JSON value: output it must print."""
    wanted = []
    for line in code.splitlines():
        text = line.strip()
        if text.startswith("# "):
            candidate = text[2:].strip()
            try:
                json.loads(candidate)
            except ValueError:
                continue
            if candidate[:1] in "{[":
                wanted.append(candidate)
    return wanted


def run_block(block: Block, server: Server, args, binary: str) -> tuple[bool, str]:
    code = substitute(block.code, server)
    with tempfile.TemporaryDirectory(prefix="auditlog-doc-") as work:
        env = dict(os.environ)
        env["PATH"] = f"{Path(binary).parent}{os.pathsep}{env['PATH']}"
        if block.language in ("sh", "bash"):
            shim = Path(work) / "bin"
            shim.mkdir()
            (shim / "auditlog").symlink_to(binary)
            env["PATH"] = f"{shim}{os.pathsep}{env['PATH']}"
            command = ["bash", "-c", "set -euo pipefail\n" + code]
        elif block.language == "python":
            script = Path(work) / "example.py"
            script.write_text(code)
            command = [str(Path(args.python_sdk) / "bin" / "python"), str(script)]
        else:
            # ESM resolves packages from the script's own folder upwards: put it in the prefix.
            script = Path(args.node_sdk) / f"doc-example-{os.getpid()}-{block.line}.mjs"
            script.write_text(code)
            command = ["node", str(script)]
        try:
            done = subprocess.run(command, cwd=work, env=env, capture_output=True, text=True,
                                  timeout=EXAMPLE_TIMEOUT_SECS)
        except subprocess.TimeoutExpired:
            return False, f"did not finish within {EXAMPLE_TIMEOUT_SECS} s"
        finally:
            if block.language in ("js", "javascript"):
                script.unlink(missing_ok=True)
    output = done.stdout + done.stderr
    if done.returncode != 0:
        return False, f"exit status {done.returncode}\n{output[-3000:]}"
    for wanted in expected_output(block.code) if block.language in ("sh", "bash") else []:
        if wanted not in done.stdout:
            return False, f"expected output {wanted} not printed\n{output[-3000:]}"
    return True, ""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin", required=True)
    parser.add_argument("--python-sdk", required=True)
    parser.add_argument("--node-sdk", required=True)
    parser.add_argument("--label", default="")
    parser.add_argument("files", nargs="*")
    args = parser.parse_args()
    args.bin = str(Path(args.bin).resolve())
    args.python_sdk = str(Path(args.python_sdk).resolve())
    args.node_sdk = str(Path(args.node_sdk).resolve())
    files = [Path(f).resolve() for f in args.files] or (
        [ROOT / "README.md"] + sorted((ROOT / "docs").glob("**/*.md"))
    )
    blocks = [block for path in files if path.exists() for block in blocks_of(path)]
    passed = failed = 0
    label = f" [{args.label}]" if args.label else ""
    for block in blocks:
        if block.mode == "":
            print(f"FAIL {block.location}{label}: fenced block not marked `run` or `norun`")
            failed += 1
        elif block.mode == "run" and block.language not in RUNNERS:
            print(f"FAIL {block.location}{label}: no runner for language {block.language!r}")
            failed += 1
    runnable = [b for b in blocks if b.mode == "run" and b.language in RUNNERS]
    work = Path(tempfile.mkdtemp(prefix="auditlog-docs-"))
    server = Server(args.bin, work)
    try:
        for block in runnable:
            ok, why = run_block(block, server, args, args.bin)
            if ok:
                print(f"PASS {block.location}{label} ({block.language})")
                passed += 1
            else:
                print(f"FAIL {block.location}{label} ({block.language}): {why}")
                failed += 1
    finally:
        server.stop()
        if failed == 0:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"server log: {work / 'server.log'}")
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
