# runbook's Python session: statements typed at `>>> ` in a guide, run one by one in one
# interpreter as its prompt runs them (an expression's value echoed, a traceback printed
# and the session going on), each one's output between the step's markers for runbook to
# hold against the transcript. runbook puts RUNBOOK_NONCE and RUNBOOK_STATEMENTS (a JSON
# list of the statements' source) in front of this text: nothing reaches the environment
# the statements' programs inherit. Output is taken at the descriptors, so what a child
# process prints is its statement's too.
import code
import json
import os
import sys
import tempfile

statements = json.loads(RUNBOOK_STATEMENTS)  # noqa: F821 (set before this text)
console = code.InteractiveConsole({"__name__": "__console__"})
for index, source in enumerate(statements):
    sys.stdout.flush()
    sys.stderr.flush()
    with tempfile.TemporaryFile() as capture:
        saved = (os.dup(1), os.dup(2))
        os.dup2(capture.fileno(), 1)
        os.dup2(capture.fileno(), 2)
        try:
            more = False
            for line in source.split("\n"):
                more = console.push(line)
            if more:
                console.push("")
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])
        capture.seek(0)
        text = capture.read().decode("utf-8", "replace")
    sys.stdout.write("%s begin %d\n" % (RUNBOOK_NONCE, index))  # noqa: F821
    sys.stdout.write(text if text.endswith("\n") or not text else text + "\n")
    sys.stdout.write("%s end %d 0\n" % (RUNBOOK_NONCE, index))  # noqa: F821
    sys.stdout.flush()
