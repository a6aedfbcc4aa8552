import ArgumentParser
import RunbookKit

/// `runbook inventory`: an Ansible inventory as `ansible-inventory` shows it.
struct InventoryCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "inventory",
    abstract: "Show an inventory as ansible-inventory does (--list JSON or --graph).")

  @Option(name: [.short, .long], help: "An Ansible inventory (INI or YAML).")
  var inventory: String

  @Flag(help: "Print the JSON of ansible-inventory --list.")
  var list = false

  @Flag(help: "Print the tree of ansible-inventory --graph.")
  var graph = false

  @Argument(help: "With --graph, the group to start from.")
  var group: String = "all"

  func validate() throws {
    guard list != graph else { throw ValidationError("give exactly one of --list and --graph") }
  }

  func run() throws {
    let parsed: Inventory
    do {
      parsed = try InventoryParser.load(path: inventory)
    } catch {
      try report(error.diagnostics)
      return
    }
    if list {
      print(parsed.ansibleListJSON())
    } else {
      guard parsed.groups[group] != nil else {
        throw ValidationError("'\(group)' is not a group of \(inventory)")
      }
      print(parsed.ansibleGraph(from: group))
    }
  }
}
