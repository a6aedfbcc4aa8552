import ArgumentParser
import RunbookKit

/// `runbook verify`: check that nothing in a run directory changed after the run.
struct Verify: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract:
      "Check a run directory against its journal's digest chain (exit 1 naming the first mismatch)."
  )

  @Argument(help: "The run directory.")
  var runDirectory: String

  func run() throws {
    let mismatches = RunDirectory.verify(directory: runDirectory)
    guard !mismatches.isEmpty else {
      print("\(runDirectory): intact (journal digest chain, runbook, logs and reports match)")
      return
    }
    var stderr = StandardError()
    for mismatch in mismatches { print("\(runDirectory)/\(mismatch)", to: &stderr) }
    throw ExitCode(1)
  }
}
