import ArgumentParser
import RunbookKit

/// `runbook diff`: what changed between two runs of a runbook.
struct Diff: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract:
      "Show, per step and host, what changed between two runs: status, rendered script, output.")

  @Argument(help: "The earlier run directory.")
  var runA: String

  @Argument(help: "The later run directory.")
  var runB: String

  @Flag(help: "Compare progress lines too (apt's Get:/Unpacking, curl's meter, pip, wget).")
  var progress = false

  func run() throws {
    do {
      print(
        RunDirectory.diff(
          try RunReport.load(directory: runA), try RunReport.load(directory: runB),
          progress: progress),
        terminator: "")
    } catch let error as ReportError {
      var stderr = StandardError()
      print("error: \(error)", to: &stderr)
      throw ExitStatus.invalid
    }
  }
}
