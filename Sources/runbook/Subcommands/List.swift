import ArgumentParser
import RunbookKit

/// `runbook list`: the steps of a runbook with their ids, sections, roles and kinds.
struct List: ParsableCommand {
  static let configuration = CommandConfiguration(abstract: "List the steps of a runbook.")

  @Argument(help: "The runbook (a Markdown file).")
  var runbook: String

  @Flag(help: "Print JSON (see README: Machine-readable output).")
  var json = false

  func run() throws {
    let parsed: Runbook
    let diagnostics: [Diagnostic]
    do {
      (parsed, diagnostics) = try Runbook.load(path: runbook)
    } catch {
      try report(error.diagnostics)
      return
    }
    try report(diagnostics.sortedByLocation())
    print(json ? parsed.stepListJSON() : parsed.stepListText(), terminator: "")
  }
}
