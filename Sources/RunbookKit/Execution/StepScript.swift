import Foundation

/// The text sent to a host's shell on standard input for one step, and how to read back
/// what it prints.
///
/// Every script runs its commands inside `{ …; } </dev/null`: the shell reads the whole
/// group before it runs anything, so a command that reads standard input cannot swallow the
/// rest of the script, and nothing is ever passed as an argument (no quoting or length
/// limits). Marker lines carry a per-run nonce so output cannot forge them.
public struct StepScript: Sendable, Equatable {
  /// The interpreter on the target.
  public enum Shell: String, Sendable {
    case sh = "/bin/sh"
    case bash = "/bin/bash"
  }

  /// Which shell reads the script.
  public var shell: Shell
  /// The script itself.
  public var text: String
  /// The marker prefix of this script's control lines.
  public var nonce: String
  /// The script's line that holds the step body's first line, for mapping a shell's
  /// messages back to the runbook (nil when the body is not laid out line for line).
  public var bodyLine: Int? = nil

  /// Whether the script names its shell's pid (`$$`, `${$}`, `BASHPID`): such a step runs
  /// in a shell process of its own, where a plain step runs in a subshell of the host's
  /// runner, whose `$$` is the runner's.
  public var namesItsShellPID: Bool {
    text.contains("$$") || text.contains("${$}") || text.contains("BASHPID")
  }

  /// A fresh random nonce.
  public static func makeNonce() -> String {
    SessionProtocol.noncePrefix + Digest.randomHex(8)
  }

  /// Lines that end the script early, with a marker, when `creates` exists or `unless`
  /// succeeds.
  static func guards(creates: String?, unless: String?, nonce: String) -> String {
    var text = ""
    if let creates {
      text +=
        "if [ -e \(ShellQuote.path(creates)) ]; then echo '\(nonce) skip creates'; exit 0; fi\n"
    }
    if let unless {
      text +=
        "if { \(unless)\n} >/dev/null 2>&1 </dev/null; then echo '\(nonce) skip unless'; exit 0; fi\n"
    }
    return text
  }

  /// The lines before every command step: its context (`RUNBOOK_RUN_ID`, `RUNBOOK_STEP`,
  /// `RUNBOOK_HOST`, `RUNBOOK_ROLE`), its environment (`NAME=value` lines) and its working
  /// directory, each value one quoted word.
  public static func prelude(
    context: [(String, String)], env: String?, cwd: String?, runmeDirectories: [String]? = nil
  ) -> String {
    var text = ""
    for (name, value) in context + environment(env ?? "") {
      text += "export \(name)=\(ShellQuote.word(value))\n"
    }
    // The session tells the step's own directory (runbook_cwd) from one it went on to.
    if let runmeDirectories {
      // Runme's chain, each directory relative to the one before, passed over where it is
      // not one: as Runme's runner resolves a cell's directory when it runs it.
      for directory in runmeDirectories {
        let word = ShellQuote.word(directory)
        text += "if [ -d \(word) ]; then cd -- \(word) || exit 1; fi\n"
      }
      text += "runbook_cwd=$PWD\n"
    } else if let cwd {
      text += "cd -- \(ShellQuote.word(cwd)) || exit 1\nrunbook_cwd=$PWD\n"
    }
    return text
  }

  /// The `NAME=value` lines of a step's environment field, as pairs.
  static func environment(_ text: String) -> [(name: String, value: String)] {
    text.split(separator: "\n").compactMap { line -> (name: String, value: String)? in
      guard let equals = line.firstIndex(of: "=") else { return nil }
      return (String(line[..<equals]), String(line[equals...].dropFirst()))
    }
  }

  /// A program for another interpreter, given on its standard input (`python3 -`): the
  /// interpreter's exit status is the step's.
  public static func program(
    _ body: String, interpreter: String, prelude: String = "", creates: String? = nil,
    unless: String? = nil, nonce: String = makeNonce()
  ) -> StepScript {
    let text =
      prelude + guards(creates: creates, unless: unless, nonce: nonce)
      + "\(interpreter) - <<'\(nonce)'\n" + body + (body.hasSuffix("\n") ? "" : "\n") + "\(nonce)\n"
    return StepScript(shell: .sh, text: text, nonce: nonce)
  }

  /// A Python session (`>>> ` statements): `python_session.py` runs them one by one in
  /// one interpreter and prints each one's output between markers, as a console step's
  /// commands are printed. The statements and the nonce are Python string literals put in
  /// front of it (JSON's string syntax is Python's), never in an environment.
  public static func pythonSession(
    _ transcript: ConsoleTranscript, prelude: String = "", creates: String? = nil,
    unless: String? = nil, nonce: String = makeNonce()
  ) -> StepScript {
    let encoder = JSONEncoder()
    encoder.outputFormatting = .withoutEscapingSlashes
    func literal(_ text: String) -> String {
      (try? encoder.encode(text)).map { String(decoding: $0, as: UTF8.self) } ?? "\"\""
    }
    let statements =
      (try? encoder.encode(transcript.commands.map(\.command)))
      .map { String(decoding: $0, as: UTF8.self) } ?? "[]"
    let text =
      prelude + guards(creates: creates, unless: unless, nonce: nonce)
      + "python3 - <<'\(nonce)'\n"
      + "RUNBOOK_NONCE = \(literal(nonce))\nRUNBOOK_STATEMENTS = \(literal(statements))\n"
      + EmbeddedScripts.pythonSession + (EmbeddedScripts.pythonSession.hasSuffix("\n") ? "" : "\n")
      + "\(nonce)\n"
    return StepScript(shell: .sh, text: text, nonce: nonce)
  }

  /// A `sh` or `bash` step: errexit, and pipefail for bash.
  public static func shell(
    _ body: String, bash: Bool, prelude: String = "", epilogue: String = "",
    creates: String? = nil, unless: String? = nil, nonce: String = makeNonce()
  ) -> StepScript {
    let options = bash ? "set -eo pipefail\n" : "set -e\n"
    let head = prelude + guards(creates: creates, unless: unless, nonce: nonce) + options + "{\n"
    let text = head + body + (body.hasSuffix("\n") ? "" : "\n") + "} </dev/null\n" + epilogue
    return StepScript(
      shell: bash ? .bash : .sh, text: text, nonce: nonce,
      bodyLine: head.utf8.count { $0 == UInt8(ascii: "\n") } + 1)
  }

  /// A console transcript: each command runs with standard error merged into its output,
  /// between marker lines, and the script stops at the first unexpected exit status.
  public static func console(
    _ transcript: ConsoleTranscript, prelude: String = "", epilogue: String = "",
    creates: String? = nil, unless: String? = nil, nonce: String = makeNonce()
  ) -> StepScript {
    var text = prelude + guards(creates: creates, unless: unless, nonce: nonce)
    for (i, command) in transcript.commands.enumerated() {
      text += "printf '%s\\n' '\(nonce) begin \(i)'\n"
      text += "{\n\(command.command)\n} </dev/null 2>&1\n"
      text += "runbook_status=$?\nprintf '%s\\n' \"\(nonce) end \(i) $runbook_status\"\n"
      text += "[ \"$runbook_status\" -eq \(command.expectedStatus) ] || exit 1\n"
    }
    return StepScript(shell: .sh, text: text + epilogue, nonce: nonce)
  }

  /// SQL statements with prompts stripped, piped to `client` through a here-document. A
  /// client runbook knows gets the options that make it stop at an error; one that goes
  /// on after an error (redis-cli) has its replies read for one.
  public static func sql(
    _ body: String, client: String?, prelude: String = "", creates: String? = nil,
    unless: String? = nil, nonce: String = makeNonce()
  ) -> StepScript {
    let written = client ?? "mysql"
    let known = SQLClient(written)
    let statements = stripPrompts(body)
    var text =
      prelude + guards(creates: creates, unless: unless, nonce: nonce)
      + "set -e\n{\n\(known?.command ?? written) <<'\(nonce)'\n"
      + statements + (statements.hasSuffix("\n") ? "" : "\n") + "\(nonce)\n} </dev/null"
    if let known, let errors = known.errorReply {
      let failing = [errors] + (known.fatalReply.map { [$0] } ?? [])
      text +=
        " 2>&1 | awk '{ print; fflush() } /\(failing.joined(separator: "|"))/ { failed = 1 } END { exit failed }'"
    }
    return StepScript(shell: .sh, text: text + "\n", nonce: nonce)
  }

  /// SQL statements typed into the client that `session` keeps open on the host (see
  /// `SQLClientSession`): the client's words are expanded by the step's shell, as they
  /// would be on a command line, and the statements go to the open client with a closing
  /// statement whose echo ends the step's answer.
  static func sql(
    _ body: String, client: SQLClient, session: SQLClientSession, prelude: String = "",
    creates: String? = nil, unless: String? = nil, nonce: String = makeNonce()
  ) -> StepScript {
    let statements = stripPrompts(body)
    let marker = nonce + "-end"
    var text = prelude + guards(creates: creates, unless: unless, nonce: nonce)
    text += EmbeddedScripts.sqlClient + session.assignment + "\n"
    text += "runbook_client_continues=\(session.continues ? 1 : 0)\n"
    if let idle = session.idleMinutes { text += "runbook_client_idle=\(idle)\n" }
    let sent = statements + (statements.hasSuffix("\n") ? "" : "\n") + client.closing(marker)
    text += "runbook_client_marker=\(ShellQuote.word(marker))\n"
    text += "runbook_client_count=\(sent.utf8.count { $0 == UInt8(ascii: "\n") })\n"
    text += "runbook_client_error=\(ShellQuote.word(client.errorReply ?? ""))\n"
    text += "runbook_client_fatal=\(ShellQuote.word(client.fatalReply ?? ""))\n"
    text += "set -- \(client.command)\nrunbook_client_step \"$@\" <<'\(nonce)'\n"
    text += sent + "\(nonce)\n"
    return StepScript(shell: .sh, text: text, nonce: nonce)
  }

  /// The statements of a SQL block without the prompts copied from a terminal, nor the
  /// output a transcript shows (see `SQLTranscript`).
  public static func stripPrompts(_ body: String) -> String {
    SQLTranscript(body).statements
  }

  /// Prints a file between markers, or a `missing` marker when it does not exist.
  public static func fetch(
    _ path: String, creates: String? = nil, unless: String? = nil, nonce: String = makeNonce()
  ) -> StepScript {
    let f = ShellQuote.path(path)
    let text =
      guards(creates: creates, unless: unless, nonce: nonce)
      + "if [ -e \(f) ]; then printf '%s\\n' '\(nonce) content'; cat \(f); else echo '\(nonce) missing'; fi\n"
    return StepScript(shell: .sh, text: text, nonce: nonce)
  }

  /// Writes `content` to `path` atomically: keeps the file's mode and owner unless told,
  /// backs up the original once (`PATH.runbook-orig`), prints a unified diff between
  /// markers, and changes nothing when the content is already there.
  public static func writeFile(
    _ path: String, content: String, mode: String?, owner: String?, creates: String? = nil,
    unless: String? = nil, nonce: String = makeNonce()
  ) -> StepScript {
    let f = ShellQuote.path(path)
    var text = guards(creates: creates, unless: unless, nonce: nonce) + "set -e\n"
    text += "runbook_dir=$(dirname \(f))\nmkdir -p \"$runbook_dir\"\n"
    text += "runbook_tmp=$(mktemp \"$runbook_dir/.runbook.XXXXXX\")\n"
    text += "trap 'rm -f \"$runbook_tmp\"' EXIT\n"
    // An existing file keeps its mode and owner; a new one is 0644 unless told (mktemp
    // makes it 0600, which a service running as another user could not read).
    text +=
      "if [ -e \(f) ]; then cp -p \(f) \"$runbook_tmp\"; else chmod 644 \"$runbook_tmp\"; fi\n"
    if content.isEmpty || content.hasSuffix("\n") {
      text += "cat > \"$runbook_tmp\" <<'\(nonce)'\n" + content + "\(nonce)\n"
    } else {
      // A file without a final newline keeps it that way: a here-document always ends
      // with one, which the command substitution takes off again.
      text +=
        "printf '%s' \"$(cat <<'\(nonce)'\n" + content + "\n\(nonce)\n)\" > \"$runbook_tmp\"\n"
    }
    if let mode { text += "chmod \(mode) \"$runbook_tmp\"\n" }
    if let owner { text += "chown \(ShellQuote.word(owner)) \"$runbook_tmp\"\n" }
    text += """
      if [ -e \(f) ] && cmp -s \(f) "$runbook_tmp"; then
        \(mode.map { "chmod \($0) \(f)\n  " } ?? "")\(owner.map { "chown \(ShellQuote.word($0)) \(f)\n  " } ?? "")echo '\(nonce) unchanged'
        exit 0
      fi
      printf '%s\\n' '\(nonce) diff'
      if [ -e \(f) ]; then
        [ -e \(ShellQuote.path(path + ".runbook-orig")) ] || cp -p \(f) \(ShellQuote.path(path + ".runbook-orig"))
        diff -u \(f) "$runbook_tmp" | sed '1,2d' || true
      else
        sed 's/^/+/' "$runbook_tmp"
      fi
      printf '%s\\n' '\(nonce) changed'
      mv -f "$runbook_tmp" \(f)
      trap - EXIT

      """
    return StepScript(shell: .sh, text: text, nonce: nonce)
  }
}
