import ArgumentParser
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
}
