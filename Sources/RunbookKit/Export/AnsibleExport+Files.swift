/// The Python files an exported project carries: they do in Ansible what `FileEdit` and
/// `Template.Filter` do in `runbook exec`, with the same rules (a test runs both on the same
/// inputs and compares).
extension AnsibleExport {
  /// `library/runbook_file.py`: runbook's file steps (write, `ini` merge, `append` block):
  /// the parent made, the original kept as `FILE.runbook-orig` at the first change, an
  /// existing file's mode and owner kept unless the step sets them, a new one 0644.
  static let fileModule = #"""
    #!/usr/bin/python3
    # runbook's ini merge and append block, as an Ansible module (exported by runbook).
    import grp
    import os
    import pwd
    import shutil
    import tempfile

    from ansible.module_utils.basic import AnsibleModule


    def indent(line):
        return len(line) - len(line.lstrip(" \t"))


    def is_comment(line):
        t = line.strip()
        return t.startswith("#") or t.startswith(";")


    def section_name(line):
        t = line.strip()
        if t.startswith("[") and t.endswith("]"):
            return t[1:-1].strip()
        return None


    def ini_key(line):
        if not line or is_comment(line):
            return None
        end = len(line)
        for i, c in enumerate(line):
            if c in "=:":
                end = i
                break
        key = line[:end].strip()
        return key or None


    def split_setting(line, markers):
        """LINE cut as runbook's INISettingLine cuts it: indent, key, sign (with the white
        space before it), spacing, value, comment (with the white space before it)."""
        start = indent(line)
        sign_at = next((j for j in range(start, len(line)) if line[j] in "=:"), None)
        if sign_at is None:
            return [line[:start], line[start:], "", "", "", ""]
        key_end = sign_at
        while key_end > start and line[key_end - 1] in " \t":
            key_end -= 1
        value_start = sign_at + 1
        while value_start < len(line) and line[value_start] in " \t":
            value_start += 1
        begin = value_start + 1
        if value_start < len(line) and line[value_start] in "'\"":
            close = line.find(line[value_start], value_start + 1)
            begin = (len(line) if close < 0 else close) + 1
        value_end = next((p for p in range(begin, len(line))
                          if line[p] in markers and line[p - 1] in " \t"), len(line))
        if value_end < len(line):
            while line[value_end - 1] in " \t":
                value_end -= 1
        return [line[:start], line[start:key_end], line[key_end:sign_at + 1],
                line[sign_at + 1:value_start], line[value_start:value_end], line[value_end:]]


    def inline_comment_markers(lines):
        """The characters at least two settings of LINES, commented out or not, put after
        their value to start a comment (as INISettingLine.inlineCommentMarkers)."""
        counts = {}
        for line in lines:
            _, key, sign, _, _, comment = split_setting(line.lstrip(" \t#;"), "#;")
            if sign and key and not any(c in " \t" for c in key) and comment:
                marker = comment.lstrip(" \t")[0]
                counts[marker] = counts.get(marker, 0) + 1
        return "".join(sorted(m for m, n in counts.items() if n >= 2))


    def replaced_key_line(old, new, markers):
        """The key line OLD with the block's line NEW in its place (INISettingLine.replaced)."""
        indent_, _, sign, spacing, value, comment = split_setting(old, markers)
        _, new_key, new_sign, new_spacing, new_value, new_comment = split_setting(new, markers)
        separator = new_sign + new_spacing
        if sign and new_sign:
            separator = sign + (new_spacing if not value or not new_value else spacing)
        return indent_ + new_key + separator + new_value + (new_comment or comment)


    def setting_end(lines, first, end):
        """The last line of the setting at FIRST: comments between its continuation lines
        belong to it (FileEdit.settingEnd)."""
        last, nxt = first, first + 1
        while nxt < end:
            if is_comment(lines[nxt]):
                nxt += 1
                continue
            if (not lines[nxt].strip() or indent(lines[nxt]) <= indent(lines[first])
                    or section_name(lines[nxt]) is not None):
                break
            last = nxt
            nxt += 1
        return last


    def replacing(old, new, markers):
        """The setting OLD with the block's lines NEW in its place, its comments kept
        (FileEdit.replacing)."""
        result, used = [], 0
        for line in old:
            if is_comment(line):
                result.append(line)
            elif used < len(new):
                result.append(replaced_key_line(line, new[0], markers) if used == 0 else new[used])
                used += 1
        return result + new[used:]


    def block_settings(block, section):
        order, settings = [], {}
        current, open_ = section, None
        for raw in block.split("\n"):
            if is_comment(raw):
                continue
            line = raw.strip()
            if open_ is not None and line and indent(raw) > open_[0]:
                settings[open_[1]][-1][1].append(raw)
                continue
            open_ = None
            if not line:
                continue
            if line.startswith("[") and line.endswith("]"):
                current = line[1:-1].strip()
                continue
            key = ini_key(line)
            if key is None:
                continue
            if current not in settings:
                order.append(current)
                settings[current] = []
            settings[current].append((key, [line]))
            open_ = (indent(raw), current)
        return order, settings


    def merge_ini(block, original, section):
        lines = [] if original == "" else original.split("\n")
        final_newline = original == "" or original.endswith("\n")
        if original.endswith("\n"):
            lines.pop()
        markers = inline_comment_markers(lines)
        order, settings = block_settings(block, section)
        for name in order:
            pending = list(settings[name])
            start, found = 0, name is None
            if name is not None:
                for i, l in enumerate(lines):
                    if section_name(l) == name:
                        start, found = i + 1, True
                        break
            if not found:
                if lines and lines[-1].strip():
                    lines.append("")
                lines.append("[%s]" % name)
                for _, ls in pending:
                    lines.extend(ls)
                continue
            end = next((j for j in range(start, len(lines)) if section_name(lines[j]) is not None), len(lines))
            i = start
            while i < end:
                key = ini_key(lines[i].strip())
                if key is None or is_comment(lines[i]):
                    i += 1
                    continue
                last = setting_end(lines, i, end)
                match = next((k for k, p in enumerate(pending) if p[0] == key), None)
                if match is not None:
                    replacement = replacing(lines[i:last + 1], pending.pop(match)[1], markers)
                    lines[i:last + 1] = replacement
                    end += len(replacement) - (last - i + 1)
                    i += len(replacement)
                else:
                    i = last + 1
            insert_at = end
            while insert_at > start and not lines[insert_at - 1].strip():
                insert_at -= 1
            new = [l for _, ls in pending for l in ls]
            lines[insert_at:insert_at] = new
        if not lines:
            return ""
        return "\n".join(lines) + ("\n" if final_newline else "")


    def append_block(block, original, id_, comment="#"):
        begin = "%s BEGIN RUNBOOK %s" % (comment, id_)
        end = "%s END RUNBOOK %s" % (comment, id_)
        body = block
        if body and not body.endswith("\n"):
            body += "\n"
        wrapped = "%s\n%s%s\n" % (begin, body, end)
        lines = original.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        if begin in lines:
            first = lines.index(begin)
            if end in lines[first:]:
                last = first + lines[first:].index(end)
                before = "\n".join(lines[:first])
                after = "\n".join(lines[last + 1:])
                return (before + "\n" if before else "") + wrapped + (after + "\n" if after else "")
        text = original
        if text and not text.endswith("\n"):
            text += "\n"
        return text + wrapped


    def owner_ids(owner):
        """The uid and gid chown gives for OWNER (USER, USER:GROUP, USER: or :GROUP, names or
        numbers, as exec's chown takes it); -1 where it leaves one as it is."""
        if not owner:
            return -1, -1
        user, colon, group = owner.partition(":")
        entry = None
        if user and not user.isdigit():
            entry = pwd.getpwnam(user)
        uid = (int(user) if user.isdigit() else entry.pw_uid) if user else -1
        if group:
            gid = int(group) if group.isdigit() else grp.getgrnam(group).gr_gid
        elif colon and user:
            # "USER:" is the user's login group.
            gid = (entry or pwd.getpwuid(uid)).pw_gid
        else:
            gid = -1
        return uid, gid


    def main():
        module = AnsibleModule(
            argument_spec=dict(
                path=dict(type="str", required=True),
                edit=dict(type="str", required=True, choices=["write", "ini", "append"]),
                content=dict(type="str", required=True),
                section=dict(type="str"),
                id=dict(type="str"),
                create=dict(type="bool", default=False),
                mode=dict(type="str"),
                owner=dict(type="str"),
            ),
            supports_check_mode=True,
        )
        p = module.params
        path, mode, owner = p["path"], p["mode"], p["owner"]
        exists = os.path.exists(path)
        original = ""
        if exists:
            with open(path, encoding="utf-8", newline="") as f:
                original = f.read()
        elif p["edit"] == "ini" and not p["create"]:
            module.fail_json(msg="%s does not exist: install the package that provides it first, or add 'create' to the step to create it (mode 0644 unless mode= says otherwise)" % path)
        if p["edit"] == "ini":
            new = merge_ini(p["content"], original, p["section"])
        elif p["edit"] == "append":
            new = append_block(p["content"], original, p["id"])
        else:
            new = p["content"]
        uid, gid = owner_ids(owner)
        if exists and new == original:
            # Unchanged text; mode and owner are still made what the step says.
            st = os.stat(path)
            changed = False
            if mode and st.st_mode & 0o7777 != int(mode, 8):
                changed = True
                if not module.check_mode:
                    os.chmod(path, int(mode, 8))
            if (uid != -1 and st.st_uid != uid) or (gid != -1 and st.st_gid != gid):
                changed = True
                if not module.check_mode:
                    os.chown(path, uid, gid)
            module.exit_json(changed=changed, path=path)
        if module.check_mode:
            module.exit_json(changed=True, path=path)
        directory = os.path.dirname(path) or "."
        os.makedirs(directory, exist_ok=True)
        if exists:
            # The first change keeps the original beside the file, as runbook exec does.
            orig = path + ".runbook-orig"
            if not os.path.exists(orig):
                shutil.copy2(path, orig)
                st = os.stat(path)
                os.chown(orig, st.st_uid, st.st_gid)
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".runbook.")
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
                f.write(new)
            if exists:
                st = os.stat(path)
                os.chmod(tmp, st.st_mode & 0o7777)
                os.chown(tmp, st.st_uid, st.st_gid)
            else:
                os.chmod(tmp, 0o644)
            if mode:
                os.chmod(tmp, int(mode, 8))
            if owner:
                os.chown(tmp, uid, gid)
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
        module.exit_json(changed=True, path=path)


    if __name__ == "__main__":
        main()

    """#

  /// `filter_plugins/runbook.py`: runbook's value filters (`| quote`, `| sql`, `| mysql`,
  /// `| url`), byte for byte, and the check of a console step's output against its
  /// transcript (`(re)`, `(glob)`, `...`), as `ConsoleTranscript.matches` does it.
  static let filterPlugin = #"""
    # runbook's value filters and console transcript check, as Jinja filters (exported by
    # runbook); the journal callback masks secrets and names logs with it too.
    import hashlib
    import re


    def runbook_quote(value):
        return "'" + str(value).replace("'", "'\\''") + "'"


    def runbook_sql(value):
        return "'" + str(value).replace("'", "''") + "'"


    def runbook_mysql(value):
        return "'" + str(value).replace("\\", "\\\\").replace("'", "''") + "'"


    def runbook_url(value):
        out = []
        for byte in str(value).encode("utf-8"):
            c = chr(byte)
            if byte < 0x80 and (c.isalnum() or c in "-._~"):
                out.append(c)
            else:
                out.append("%%%02X" % byte)
        return "".join(out)


    def runbook_mask(text, values):
        """TEXT with each secret of VALUES, and each form the filters above give it, replaced
        by the mask, longest first (as runbook's SecretMasker)."""
        forms = set()
        for value in values:
            if value:
                forms.add(value)
                forms.update(f(value) for f in (runbook_quote, runbook_sql, runbook_mysql, runbook_url)
                             if value not in f(value))
                if "\n" in value:
                    # Each long enough line of a multi-line secret, as SecretMasker.lines.
                    forms.update(line for line in (l.removesuffix("\r").strip() for l in value.split("\n"))
                                 if len(line) >= 4)
        for form in sorted(forms, key=lambda f: (-len(f), f)):
            text = text.replace(form, "********")
        return text


    def runbook_file_name(name):
        """A host name safe as a file name, as runbook exec names its logs: a name that had to
        change gets a short hash of itself."""
        safe = "".join(c if c.isascii() and (c.isalnum() or c in "._-") else "_" for c in name)
        if safe == name and not safe.startswith("."):
            return safe
        return safe + "-" + hashlib.sha256(name.encode("utf-8")).hexdigest()[:8]


    def line_matches(actual, expected):
        if expected.endswith(" (re)"):
            return re.fullmatch("(?:" + expected[:-5] + ")", actual) is not None
        if expected.endswith(" (glob)"):
            pattern = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in expected[:-7])
            return re.fullmatch(pattern, actual, re.S) is not None
        return actual == expected


    def lines_match(actual, expected):
        def match(a, e):
            if e == len(expected):
                return a == len(actual)
            if expected[e] == "...":
                return any(match(skip, e + 1) for skip in range(a, len(actual) + 1))
            return a < len(actual) and line_matches(actual[a], expected[e]) and match(a + 1, e + 1)
        return match(0, 0)


    def console_outputs(stdout, nonce):
        results, current = [], None
        for line in stdout.split("\n"):
            if line.startswith(nonce + " begin "):
                current = []
            elif (nonce + " end ") in line and current is not None:
                before, _, after = line.partition(nonce + " end ")
                if before:
                    current.append(before)
                results.append((current, after.split(" ")[-1]))
                current = None
            elif current is not None:
                current.append(line)
        return results


    def runbook_search(text, pattern):
        """Whether `pattern` (runbook's expect=, an ICU regular expression) is found in
        `text`; flags written inside it, as ICU allows, go to its start, as Python wants."""
        flags = set()

        def hoist(match):
            flags.update(match.group(1))
            return ""

        body = re.sub(r"\(\?([aiLmsux]+)\)", hoist, pattern)
        if flags:
            body = "(?" + "".join(sorted(flags)) + ")" + body
        return re.search(body, text) is not None


    def runbook_console(stdout, nonce, transcript):
        """'' when every command printed what the transcript says, else what differs."""
        outputs = console_outputs(stdout, nonce)
        for i, command in enumerate(transcript):
            if i >= len(outputs):
                return "console: '%s' did not run" % command["command"]
            lines = outputs[i][0]
            if not lines_match(lines, list(command["expected"])):
                return "console: output of '%s' differs from the transcript:\n%s" % (
                    command["command"], "\n".join(lines))
        return ""


    class FilterModule(object):
        def filters(self):
            return {
                "runbook_quote": runbook_quote,
                "runbook_sql": runbook_sql,
                "runbook_mysql": runbook_mysql,
                "runbook_url": runbook_url,
                "runbook_console": runbook_console,
                "runbook_search": runbook_search,
                "runbook_mask": runbook_mask,
            }

    """#

  /// `callback_plugins/runbook_journal.py`: writes the run directory of an Ansible run in
  /// runbook's own format (run, start, step and end records in the digest-chained journal,
  /// a log per step and host, the runbook snapshot), so that `runbook report`, `verify` and
  /// `diff` read it as they read a run of `runbook exec`.
  static let journalCallback = #"""
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

    """#
}
