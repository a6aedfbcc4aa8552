# runbook's Python session: statements typed at `>>> ` in a guide, run one by one in one
# interpreter as its prompt runs them (an expression's value echoed, a traceback printed
# and the session going on), each one's output between the step's markers for runbook to
# hold against the transcript. RUNBOOK_NONCE and RUNBOOK_STATEMENTS (a JSON list of the
# statements' source) are given in the environment.
import code
import contextlib
import io
import json
import os
import sys

nonce = os.environ["RUNBOOK_NONCE"]
statements = json.loads(os.environ["RUNBOOK_STATEMENTS"])
console = code.InteractiveConsole({"__name__": "__console__"})
for index, source in enumerate(statements):
    output = io.StringIO()
    with contextlib.redirect_stdout(output), contextlib.redirect_stderr(output):
        more = False
        for line in source.split("\n"):
            more = console.push(line)
        if more:
            console.push("")
    sys.stdout.write("%s begin %d\n" % (nonce, index))
    text = output.getvalue()
    sys.stdout.write(text if text.endswith("\n") or not text else text + "\n")
    sys.stdout.write("%s end %d 0\n" % (nonce, index))
    sys.stdout.flush()
