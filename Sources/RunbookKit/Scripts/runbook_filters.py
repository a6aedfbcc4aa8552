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
            "runbook_file_name": runbook_file_name,
        }
