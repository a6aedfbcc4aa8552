import ArgumentParser
import RunbookKit

/// `runbook plan`: which step runs on which hosts, with the rendered scripts.
struct Plan: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Show which step runs where, rendered, secrets masked; nothing runs.")

  @OptionGroup var options: RunbookOptions

  /// Taken so that an `exec` command line works here too (checked, not used: nothing connects).
  @OptionGroup var connection: ConnectionOptions

  @Flag(help: "Print JSON (see README: Machine-readable output).")
  var json = false

  func run() throws {
    let outcome = options.preflight.run()
    try report(outcome.diagnostics)
    guard let plan = outcome.plan else { return }
    print(json ? plan.json() : plan.text(), terminator: "")
  }
}
