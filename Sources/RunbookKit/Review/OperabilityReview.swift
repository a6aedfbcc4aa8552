import Foundation

/// What `check` says of a plan as an operator would, beyond what is invalid: steps that
/// cannot run unattended (an editor, a pager, a follow, a prompt, a foreground server, an
/// install that waits for a yes), and secrets that leak by design (an argument `ps` shows,
/// a URL a value can break, a file others can read). Warnings at the line, each with its
/// fix; `check --strict` makes them errors.
public enum OperabilityReview {
  /// The review's warnings for `plan`, in step order.
  public static func review(_ plan: Plan) -> [Diagnostic] {
    let secrets = Set(plan.secretNames)
    var out: [Diagnostic] = []
    for planned in plan.steps {
      let step = planned.step
      let file = plan.runbook.file
      for finding in findings(in: step, secrets: secrets) {
        // The message quotes the runbook: a secret's value written there is masked, and
        // nothing it holds reaches the terminal as a control sequence.
        let message = TerminalText.visible(plan.masker.mask(finding.message))
        out.append(
          finding.fixable
            ? .warning(file, finding.line, message) : .note(file, finding.line, message))
      }
    }
    return out
  }

  /// A problem of a step: where, what to do, and whether the step can be written without it
  /// (a problem with no known fix is a note: it does not fail `--strict`).
  struct Finding {
    var line: Int
    var message: String
    var fixable = true
  }

  /// Each problem of one step.
  static func findings(in step: Step, secrets: Set<String>) -> [Finding] {
    guard step.kind != .manual else { return [] }
    var out: [Finding] = []
    let lines = step.body.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    var heredoc: String?
    for (number, line) in logicalLines(lines, from: step.bodyLine) {
      for name in secretsInURL(line, secrets: secrets) {
        out.append(
          Finding(
            line: number,
            message:
              "the secret '\(name)' is in a URL without | url: a value holding @ / : % breaks it; write {{ \(name) | url }}"
          ))
      }
      // What a here-document holds is standard input, not a command.
      if let end = heredoc {
        if line.trimmingWhitespace() == end { heredoc = nil }
        continue
      }
      guard let commandLine = commandText(line, of: step) else { continue }
      heredoc = hereDocument(opened: commandLine)
      out += commandFindings(commandLine, step: step, secrets: secrets).map {
        Finding(line: number, message: $0.message, fixable: $0.fixable)
      }
    }
    if let why = modeProblem(step, secrets: secrets) {
      out.append(Finding(line: step.line, message: why))
    }
    return out
  }

  /// The lines as the shell reads them: a line that ends in `\` goes on in the next, and
  /// the whole is at the first one's number.
  private static func logicalLines(_ lines: [String], from first: Int) -> [(Int, String)] {
    var out: [(Int, String)] = []
    var pending: (Int, String)?
    for (offset, line) in lines.enumerated() {
      let joined = pending.map { ($0.0, $0.1 + " " + line) } ?? (first + offset, line)
      if line.hasSuffix("\\") {
        pending = (joined.0, String(joined.1.dropLast()))
      } else {
        out.append(joined)
        pending = nil
      }
    }
    if let pending { out.append(pending) }
    return out
  }

  /// The commands of a line, for the kinds whose lines are commands: every line of a shell
  /// step, the prompted lines of a transcript.
  private static func commandText(_ line: String, of step: Step) -> String? {
    switch step.kind {
    case .shell, .bash: return line
    case .console:
      let text = line.trimmingWhitespace()
      return text.hasPrefix("$ ") || text.hasPrefix("# ") ? text : nil
    default: return nil
    }
  }

  /// The delimiter of a here-document a line opens (`<<EOF`, `<<-'END'`), if any.
  private static func hereDocument(opened line: String) -> String? {
    guard let match = line.firstMatch(of: #/<<-?\s*['"]?([A-Za-z_][A-Za-z0-9_]*)['"]?/#) else {
      return nil
    }
    return String(match.1)
  }

  /// What cannot run unattended on a line, and each secret given as an argument.
  private static func commandFindings(_ line: String, step: Step, secrets: Set<String>)
    -> [(message: String, fixable: Bool)]
  {
    let (commands, templates) = KnownCommands.invocations(in: line)
    var out: [(message: String, fixable: Bool)] = []
    for command in commands {
      if let finding = KnownCommands.finding(command),
        !(finding.wait == .forever && step.attributes.timeout != nil)
      {
        out.append(("'\(command.text(with: templates))' \(finding.reason); \(finding.fix)", true))
      }
      // Shell built-ins start no process: nothing of theirs shows in ps.
      let builtins: Set<String> = [
        "echo", "printf", "export", "read", "local", "test", "[", "declare",
      ]
      guard !builtins.contains(command.program) else { continue }
      for (name, option) in secretArguments(command, templates: templates, secrets: secrets) {
        let leak =
          "the secret '\(name)' is an argument of \(command.program), which ps shows to every user of the host while it runs"
        if let variable = KnownCommands.passwordVariable(of: command.program, option: option) {
          out.append(
            (
              "\(leak); pass it in \(variable): env=\"\(variable.prefix { $0 != " " })={{ \(name) }}\"",
              true
            ))
        } else {
          out.append(("\(leak); runbook knows no other way \(command.program) takes it", false))
        }
      }
    }
    return out
  }

  /// The secrets a command is given among its arguments.
  private static func secretArguments(
    _ command: KnownCommands.Invocation, templates: [String], secrets: Set<String>
  ) -> [(name: String, option: String?)] {
    var found: [(name: String, option: String?)] = []
    var previous: String?
    for argument in command.arguments {
      for index in KnownCommands.templateIndices(in: argument) {
        guard index < templates.count,
          let name = reference(in: templates[index])?.path[0], secrets.contains(name),
          !found.contains(where: { $0.name == name })
        else { continue }
        // The option it is the value of: `--os-password X`, or `--os-password=X`.
        let inline = argument.hasPrefix("-") ? String(argument.prefix { $0 != "=" }) : nil
        found.append((name, inline ?? previous))
      }
      previous = argument
    }
    return found
  }

  /// The secrets written between `://` and `@` without the `url` filter.
  private static func secretsInURL(_ line: String, secrets: Set<String>) -> [String] {
    line.matches(of: #/:\/\/[^\s\/@]*?(\{\{[^}]*\}\})[^\s\/@]*@/#).compactMap { match in
      let expression = String(match.1)
      guard let reference = reference(in: expression), secrets.contains(reference.path[0]),
        !reference.filters.contains(.url)
      else { return nil }
      return reference.path[0]
    }
  }

  /// A file step that puts a secret in a file others may read: a mode that lets them, or
  /// a new file's 0644.
  private static func modeProblem(_ step: Step, secrets: Set<String>) -> String? {
    guard step.kind.writesFile,
      let name = step.body.matches(of: #/\{\{[^}]*\}\}/#).lazy
        .compactMap({ reference(in: String($0.0))?.path[0] }).first(where: secrets.contains)
    else { return nil }
    let attributes = step.attributes
    if let mode = attributes.mode {
      guard let others = mode.last?.wholeNumberValue, others & 4 != 0 else { return nil }
      return
        "the file holds the secret '\(name)' and mode=\(mode) lets every user read it; write mode=0640 (with owner=) or mode=0600"
    }
    // An existing file keeps its mode; a new one is 0644.
    guard step.kind != .iniMerge || attributes.create else { return nil }
    return
      "the file holds the secret '\(name)' and, when it is new, gets mode 0644 (every user reads it); write mode=0640 (with owner=) or mode=0600"
  }

  /// The reference an expression makes (`{{ name | filter }}`), as the planner reads it.
  private static func reference(in expression: String) -> Template.Reference? {
    Template.parse(expression).0.references.first
  }
}
