import ArgumentParser
import Foundation
import RunbookKit

/// `runbook runs`: the runs recorded in a folder, newest first, and their index page.
struct Runs: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract:
      "List the run directories in a folder (start, status, attempts, deviations, signature, operator, runbook) and write its index.html."
  )

  @Argument(help: "The folder of run directories.")
  var folder = "Reports"

  @Flag(help: "Only list; write no index.html.")
  var noIndex = false

  func run() throws {
    var stderr = StandardError()
    let index: RunIndex
    do {
      index = try RunIndex.read(folder)
    } catch {
      print("error: \(error)", to: &stderr)
      throw ExitStatus.invalid
    }
    print(index.text, terminator: "")
    guard !noIndex else { return }
    do {
      print("index: \(try index.writeHTML(into: folder))")
    } catch {
      print("error: \(error)", to: &stderr)
      throw ExitCode.failure
    }
  }
}
