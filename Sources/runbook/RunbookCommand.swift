import ArgumentParser
import Foundation
import RunbookKit

/// The `runbook` command: execute Markdown runbooks on the hosts of their roles.
@main
struct RunbookCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "runbook",
    abstract: "Execute Markdown runbooks on the hosts of their roles.",
    version: RunbookVersion.current,
    subcommands: [Check.self, List.self, Plan.self, InventoryCommand.self]
  )

  /// Runs the command, mapping argument errors to exit status 2 as DESIGN.md asks
  /// (ArgumentParser's own default is 64).
  static func main() {
    do {
      var command = try parseAsRoot()
      try command.run()
    } catch {
      if exitCode(for: error) == .validationFailure {
        var stderr = StandardError()
        print(fullMessage(for: error), to: &stderr)
        Foundation.exit(ExitStatus.invalid.rawValue)
      }
      exit(withError: error)
    }
  }
}
