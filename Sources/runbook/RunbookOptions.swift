import ArgumentParser
import Foundation
import RunbookKit

/// The runbook, inventory and variable options that check, plan and exec share.
struct RunbookOptions: ParsableArguments {
  @Argument(help: "The runbook (a Markdown file).")
  var runbook: String

  @Option(
    name: [.short, .long],
    help: "An Ansible inventory (INI or YAML). Without it, every role is this machine.")
  var inventory: String?

  @Option(name: [.short, .customLong("var")], help: "Set a variable: NAME=VALUE (repeatable).")
  var variables: [String] = []

  @Option(
    name: .customLong("vars-file"), help: "Read variables from a YAML or JSON file (repeatable).")
  var varsFiles: [String] = []

  @Option(
    name: .customLong("secret"), help: "Treat a variable as secret: masked everywhere (repeatable)."
  )
  var secrets: [String] = []

  @Flag(
    name: .customLong("allow-empty-roles"),
    help: "Skip roles that have no hosts instead of failing.")
  var allowEmptyRoles = false

  @Flag(
    help:
      "Refuse what a guide written elsewhere may carry (front matter keys runbook does not read); in check, make the operability review's warnings errors."
  )
  var strict = false

  @Option(
    name: .customLong("default-role"),
    help: "Run blocks that carry no role of their own (a Runme document's) on this role.")
  var defaultRole: String?

  @Option(
    name: .customLong("become-password-file"),
    help:
      "sudo's password (the file's first line) for hosts whose inventory sets no ansible_become_password; it reaches sudo -S on standard input only."
  )
  var becomePasswordFile: String?

  /// The preflight these options describe.
  var preflight: Preflight {
    var preflight = Preflight(runbookPath: runbook, inventoryPath: inventory)
    preflight.variables = variables
    preflight.varsFiles = varsFiles
    preflight.secretNames = secrets
    preflight.allowEmptyRoles = allowEmptyRoles
    preflight.strict = strict
    preflight.defaultRole = defaultRole
    preflight.becomePasswordFile = becomePasswordFile
    return preflight
  }
}

/// Exit statuses of DESIGN.md: 2 for an invalid runbook, inventory or arguments.
enum ExitStatus {
  static let invalid = ExitCode(2)
}

/// Prints diagnostics to standard error and ends with status 2 when any is an error.
func report(_ diagnostics: [Diagnostic]) throws {
  printDiagnostics(diagnostics)
  if diagnostics.hasErrors { throw ExitStatus.invalid }
}

/// Prints diagnostics to standard error, and a count when any is an error.
func printDiagnostics(_ diagnostics: [Diagnostic]) {
  var stderr = StandardError()
  for diagnostic in diagnostics { print(diagnostic, to: &stderr) }
  let errors = diagnostics.filter { $0.severity == .error }.count
  let warnings = diagnostics.filter { $0.severity == .warning }.count
  if errors > 0 {
    print(
      "\(errors) error\(errors == 1 ? "" : "s"), \(warnings) warning\(warnings == 1 ? "" : "s"); nothing was run",
      to: &stderr)
  }
}

/// Standard error as a `TextOutputStream`.
struct StandardError: TextOutputStream {
  mutating func write(_ string: String) {
    FileHandle.standardError.write(Data(string.utf8))
  }
}
