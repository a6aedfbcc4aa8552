import ArgumentParser
import Foundation
import RunbookKit

/// The `runbook` command: execute Markdown runbooks on the hosts of their roles.
@main
struct RunbookCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "runbook",
    abstract: "Execute Markdown runbooks on the hosts of their roles.",
    version: RunbookVersion.described(commit: buildCommit),
    subcommands: [
      Exec.self, Check.self, List.self, Plan.self, InventoryCommand.self, Report.self, Verify.self,
      Sign.self, Diff.self, Runs.self, Init.self, Export.self,
    ]
  )

  /// Runs the command, mapping argument errors to exit status 2 as DESIGN.md asks
  /// (ArgumentParser's own default is 64).
  static func main() async {
    // A session whose process has gone (a dropped host, an interrupted run) must not end
    // the tool when it writes to it: the write fails and the run records why. Children
    // start with every signal at its default (Subprocess resets them).
    signal(SIGPIPE, SIG_IGN)
    do {
      var command = try parseAsRoot()
      if var asyncCommand = command as? AsyncParsableCommand {
        try await asyncCommand.run()
      } else {
        try command.run()
      }
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
