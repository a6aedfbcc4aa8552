import ArgumentParser
import RunbookKit

/// `runbook report`: render every report of a run directory again from its journal.
struct Report: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Render report.html, report.md, run.json and junit.xml again from a run's journal.")

  @Argument(help: "The run directory.")
  var runDirectory: String

  func run() async throws {
    do {
      let report = try await RunDirectory.writeReports(directory: runDirectory)
      print("\(runDirectory): reports of a \(report.status) run written")
    } catch let error as ReportError {
      var stderr = StandardError()
      print("error: \(error)", to: &stderr)
      throw ExitStatus.invalid
    }
  }
}
