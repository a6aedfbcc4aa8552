import ArgumentParser
import Foundation
import RunbookKit

/// `runbook report`: render every report of a run directory again from its journal.
struct Report: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Render report.html, report.md, run.json and junit.xml again from a run's journal.")

  @Argument(help: "The run directory.")
  var runDirectory: String

  func run() async throws {
    do {
      guard FileManager.default.fileExists(atPath: runDirectory + "/journal.jsonl") else {
        throw ReportError("\(runDirectory) is not a run directory (it has no journal.jsonl)")
      }
      // One writer: a run still writing this directory keeps its lock until its reports.
      let lock = try RunDirectoryLock.acquire(runDirectory)
      defer { withExtendedLifetime(lock) {} }
      let report = try await RunDirectory.writeReports(directory: runDirectory)
      print("\(runDirectory): reports of a \(report.status) run written")
    } catch let error as RunDirectoryError {
      var stderr = StandardError()
      print("error: \(error)", to: &stderr)
      throw ExitStatus.invalid
    } catch let error as ReportError {
      var stderr = StandardError()
      print("error: \(error)", to: &stderr)
      throw ExitStatus.invalid
    }
  }
}
