# Writes runbook's run directory from an Ansible run (exported by runbook).
import datetime
import hashlib
import importlib.util
import json
import os
import secrets
import shutil

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: runbook_journal
type: notification
short_description: runbook's journal, logs and runbook snapshot for this run
description:
  - Writes RUNBOOK_RUN_DIR (default runs/UTC-TIMESTAMP next to the playbook).
"""

GENESIS = "0" * 64


def now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def private_file(path, flags):
    """A file of the run directory, for the operator alone (0600) from its creation."""
    fd = os.open(path, flags | os.O_CLOEXEC, 0o600)
    os.fchmod(fd, 0o600)
    return fd


def private_dir(path):
    os.makedirs(path, mode=0o700, exist_ok=True)
    os.chmod(path, 0o700)


def load_filters(base):
    """The project's filter plugin: the same masking and log names as the playbook's."""
    spec = importlib.util.spec_from_file_location(
        "runbook_journal_filters", os.path.join(base, "filter_plugins", "runbook.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def script_of(step, r):
    """The step's own text as exec records it: a file step's content, a shell step's
    body without the wrapper the export put around it, else the command as it ran."""
    args = (r.get("invocation") or {}).get("module_args") or {}
    if step["kind"] in ("file", "ini", "append"):
        return str(args.get("content") or "")
    cmd = str(r.get("cmd") or args.get("_raw_params") or args.get("cmd") or "")
    lines = cmd.split("\n")
    if step["kind"] in ("shell", "bash") and "{" in lines and "} </dev/null" in lines:
        first = lines.index("{")
        last = len(lines) - 1 - lines[::-1].index("} </dev/null")
        return "\n".join(lines[first + 1:last]) + "\n"
    return cmd


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "notification"
    CALLBACK_NAME = "runbook_journal"
    CALLBACK_NEEDS_ENABLED = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.dir = None
        self.journal = None
        self.digest = GENESIS
        self.meta = None
        self.started = {}
        self.counts = {}
        self.failed = False
        self.filters = None
        self.secret_values = []
        # A step with an output check is recorded once the check has said.
        self.pending = {}

    def append(self, record):
        body = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        head = body[:-1] + b',"digest":"'
        digest = sha256((self.digest + "\n").encode("utf-8") + head)
        self.journal.write(head + digest.encode("ascii") + b'"}\n')
        self.journal.flush()
        os.fsync(self.journal.fileno())
        self.digest = digest

    def v2_playbook_on_start(self, playbook):
        base = playbook._basedir
        meta_path = os.path.join(base, "runbook-run.json")
        if not os.path.exists(meta_path):
            return
        with open(meta_path, encoding="utf-8") as f:
            self.meta = json.load(f)
        self.filters = load_filters(base)
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        directory = os.environ.get("RUNBOOK_RUN_DIR") or os.path.join(base, "runs", stamp)
        if os.path.exists(os.path.join(directory, "journal.jsonl")):
            # Another run's journal is never appended to.
            self._display.warning("runbook_journal: %s already holds a run; no journal is written" % directory)
            self.meta = None
            return
        # A step that does not name a secret may still print one (a file that holds it):
        # every text written here is masked, as exec masks it.
        self.secret_values = [v for v in (os.environ.get("RUNBOOK_SECRET_" + name.upper())
                                          for name in self.meta.get("secrets", [])) if v]
        self.dir = directory
        private_dir(self.dir)
        private_dir(os.path.join(self.dir, "logs"))
        snapshot = os.path.join(base, "runbook.md")
        if os.path.exists(snapshot):
            with open(snapshot, "rb") as source:
                fd = private_file(os.path.join(self.dir, "runbook.md"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
                with os.fdopen(fd, "wb") as target:
                    shutil.copyfileobj(source, target)
        fd = private_file(os.path.join(self.dir, "journal.jsonl"), os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        self.journal = os.fdopen(fd, "ab")
        self.append({
            "type": "run", "runID": os.path.basename(self.dir.rstrip("/")),
            "runbook": self.meta["runbook"], "title": self.meta["title"],
            "runbookSHA256": self.meta["runbookSHA256"], "operator": "ansible-playbook",
            "toolVersion": self.meta["toolVersion"], "startedAt": now(),
            "variables": {}, "stepCount": self.meta["stepCount"], "hosts": self.meta["hosts"],
            "dryRun": False, "inventory": self.meta.get("inventory"),
            "inventorySHA256": self.meta.get("inventorySHA256"),
        })

    def mask(self, text):
        return self.filters.runbook_mask(text, self.secret_values) if self.secret_values else text

    def log_name(self, step, host, suffix=".log"):
        return "logs/%03d-%s/%s%s" % (step["index"] + 1, step["id"], self.filters.runbook_file_name(host), suffix)

    def step_of(self, task, name="runbook_step"):
        if self.meta is None:
            return None
        index = (task.vars or {}).get(name)
        return self.meta["steps"].get(str(index)) if index is not None else None

    def v2_runner_on_start(self, host, task):
        step = self.step_of(task)
        if step is None:
            return
        key = (task._uuid, host.get_name())
        started = now()
        log = self.log_name(step, host.get_name())
        attempt = "RUNBOOK-" + secrets.token_hex(8)
        self.started[key] = (started, log, attempt)
        self.append({
            "type": "start", "step": step["id"], "index": step["index"], "host": host.get_name(),
            "attemptID": attempt, "contentSHA256": step["contentSHA256"], "startedAt": started,
            "log": log,
        })

    def record(self, result, status, check=None):
        task = result._task
        step = check or self.step_of(task)
        if step is None or self.dir is None:
            return
        host = result._host.get_name()
        r = result._result
        hidden = r.get("censored") is not None
        if check is not None:
            # The output check failed: the step's record, held until now, says so.
            held = self.pending.pop((step["index"], host), None)
            if held is not None:
                said = "failed" if hidden else self.mask(str(r.get("msg") or "failed"))
                held["status"] = "failed"
                held["reason"] = said.splitlines()[0]
                held["mismatch"] = said
                self.write_step(held, task.ignore_errors)
                return
        started, log, attempt = self.started.pop((task._uuid, host), (now(), None, None))
        out = "" if hidden else (r.get("stdout") or "")
        err = "" if hidden else (r.get("stderr") or "")
        if status == "failed" and not out and not err:
            err = r.get("msg", "") if not hidden else ""
        text = out + ("\n" if out and not out.endswith("\n") else "") + err
        if text and not text.endswith("\n"):
            text += "\n"
        text = self.mask(text)
        data = text.encode("utf-8")
        if log is None:
            # An output check has no start of its own: its log sits beside the step's.
            log = self.log_name(step, host, ".check.log")
        private_dir(os.path.dirname(os.path.join(self.dir, log)))
        fd = private_file(os.path.join(self.dir, log), os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        ended = now()
        t0 = datetime.datetime.fromisoformat(started.replace("Z", "+00:00"))
        t1 = datetime.datetime.fromisoformat(ended.replace("Z", "+00:00"))
        record = {
            "type": "step", "step": step["id"], "index": step["index"], "kind": step["kind"],
            "line": step["line"], "headingPath": step["headingPath"], "host": host,
            "status": status, "attempts": int(r.get("attempts", 1) or 1),
            "startedAt": started, "endedAt": ended,
            "durationMs": int((t1 - t0).total_seconds() * 1000),
            "script": "" if hidden else self.mask(script_of(step, r)),
            "contentSHA256": step["contentSHA256"], "log": log, "outputBytes": len(data),
            "outputSHA256": sha256(data), "outputTail": data[-65536:].decode("utf-8", "replace"),
            "outputTruncated": len(data) > 65536,
        }
        if attempt:
            record["attemptID"] = attempt
        if step.get("capture") and status == "ok" and not hidden:
            value = self.mask(out.strip())
            record["captured"] = {step["capture"]: "********" if step.get("captureSecret") else value}
        if isinstance(r.get("rc"), int):
            record["exitCode"] = r["rc"]
        if status == "skipped":
            record["reason"] = "skipped by its guard"
        elif status == "failed":
            record["reason"] = "failed" if hidden else self.mask(str(r.get("msg") or "failed")).splitlines()[0]
        if "changed" in r and step["kind"] in ("file", "ini", "append"):
            record["changed"] = bool(r["changed"])
        if status == "ok" and step.get("checked") and check is None:
            self.pending[(step["index"], host)] = record
            return
        self.write_step(record, task.ignore_errors)

    def write_step(self, record, ignored=False):
        status = record["status"]
        self.counts[status] = self.counts.get(status, 0) + 1
        if status in ("failed", "unknown") and not ignored:
            self.failed = True
        self.append(record)

    def v2_runner_on_ok(self, result):
        check = self.step_of(result._task, "runbook_step_check")
        if check is not None:
            held = self.pending.pop((check["index"], result._host.get_name()), None)
            if held is not None:
                self.write_step(held)
            return
        self.record(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        check = self.step_of(result._task, "runbook_step_check")
        if check is not None:
            # The output check after a step failed: the step failed on that host.
            self.record(result, "failed", check)
        else:
            self.record(result, "failed")

    def v2_runner_on_skipped(self, result):
        hosts = (result._task.vars or {}).get("runbook_hosts")
        if hosts is not None and result._host.get_name() not in hosts:
            return
        self.record(result, "skipped")

    def v2_runner_on_unreachable(self, result):
        self.record(result, "failed")

    def v2_playbook_on_stats(self, stats):
        if self.journal is None:
            return
        # A step whose output check never ran (the play stopped first) is not known to
        # have passed.
        for record in self.pending.values():
            record["status"] = "unknown"
            record["reason"] = "the play ended before the step's output was checked"
            self.write_step(record)
        self.pending = {}
        self.append({
            "type": "end", "status": "failed" if self.failed else "passed", "endedAt": now(),
            "counts": self.counts,
        })
        self.journal.close()
        self.journal = None
