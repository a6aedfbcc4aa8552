import Foundation

/// What a run needs between its plan and its first step, for every way of running
/// (`exec`, `--interactive`, an export): the values nobody gave yet, the run directory's
/// name, and who runs it.
public enum RunSetup {
  /// How a value is asked for: the question, and whether the answer is secret (no echo).
  public typealias Ask = @Sendable (_ question: String, _ secret: Bool) -> String?

  /// The `NAME=VALUE` assignments that complete `plan`: each secret without a value comes
  /// from `RUNBOOK_SECRET_<NAME>` in `environment`, else from `ask`; each value a Runme
  /// block asks for comes from `environment`, else from `ask`, else from its `export` line
  /// as written (with a note), as Runme's batch runs do. A secret neither gives is a
  /// problem, all of them at once.
  public static func missingValues(
    of plan: Plan, environment: [String: String], ask: Ask?
  ) -> (assignments: [String], problems: [Diagnostic]) {
    var assignments: [String] = []
    var problems: [Diagnostic] = []
    for asked in plan.askedVariables {
      let question = asked.question.map { $0.isEmpty ? "" : " (\($0))" } ?? ""
      if let value = fromEnvironment(asked.name, environment)
        ?? ask?("Value of '\(asked.name)'\(question): ", false)
      {
        assignments.append("\(asked.name)=\(value)")
      } else {
        // As Runme runs a batch: the line as written, which a shell reads up to a blank.
        let written = String((asked.question ?? "").prefix { $0 != " " && $0 != "\t" })
        assignments.append("\(asked.name)=\(written)")
        problems.append(
          .note(
            plan.runbook.file, asked.line,
            "'\(asked.name)' was given no value (--var \(asked.name)=VALUE, the environment, or a terminal to ask on): it is '\(written)', as its export line sets it"
          ))
      }
    }
    for name in plan.missingSecrets {
      if let value = environment["RUNBOOK_SECRET_" + name.uppercased()]
        ?? ask?("Value of secret '\(name)': ", true)
      {
        assignments.append("\(name)=\(value)")
      } else {
        // A secret a Runme block asks for is reported at its `export` line.
        let line = plan.runbook.steps.lazy.flatMap(\.prompts).first { $0.name == name }?.line
        problems.append(
          Diagnostic(
            .error, at: line.map { SourceLocation(file: plan.runbook.file, line: $0) },
            "secret '\(name)' has no value; set RUNBOOK_SECRET_\(name.uppercased()) or run on a terminal to be asked"
          ))
      }
    }
    return (assignments, problems)
  }

  /// The `NAME=VALUE` assignments that give a Runme block's prompted variable with a
  /// default (`export NAME="value"`) the value the environment has for it, as Runme skips
  /// the prompt of a variable already set; `given` are the `--var` assignments, which win.
  public static func environmentValues(
    of plan: Plan, environment: [String: String], given: [String]
  ) -> [String] {
    let givenNames = Set(given.map { String($0.prefix { $0 != "=" }) })
    var assignments: [String] = []
    for prompt in plan.runbook.steps.flatMap(\.prompts)
    where prompt.defaultValue != nil && !givenNames.contains(prompt.name)
      && !plan.secretNames.contains(prompt.name)
    {
      if let value = fromEnvironment(prompt.name, environment),
        !assignments.contains("\(prompt.name)=\(value)")
      {
        assignments.append("\(prompt.name)=\(value)")
      }
    }
    return assignments
  }

  /// The environment's value for a variable a Runme block prompts for; none for a name
  /// every login's environment has (`HOME`, `PATH`): a document that sets one means its own.
  private static func fromEnvironment(_ name: String, _ environment: [String: String]) -> String? {
    loginNames.contains(name) ? nil : environment[name]
  }

  private static let loginNames: Set<String> = [
    "HOME", "USER", "LOGNAME", "PATH", "SHELL", "PWD", "TERM", "LANG", "TMPDIR",
  ]

  /// `Reports/<runbook's name>-<UTC time>`: a new directory for each run.
  public static func defaultRunDirectory(for runbook: String, at date: Date = Date()) -> String {
    let name = URL(fileURLWithPath: runbook).deletingPathExtension().lastPathComponent
    let formatter = DateFormatter()
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.timeZone = TimeZone(identifier: "UTC")
    formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
    let base = "Reports/\(name)-\(formatter.string(from: date))"
    // Two runs started in the same second get directories of their own.
    var candidate = base
    var number = 1
    while FileManager.default.fileExists(atPath: candidate) {
      number += 1
      candidate = "\(base)-\(number)"
    }
    return candidate
  }

}
