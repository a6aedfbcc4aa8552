import ArgumentParser
import Foundation
import RunbookKit

/// `runbook export`: the runbook as a project another tool runs (Ansible).
struct Export: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract:
      "Write the runbook as an Ansible project (playbook, inventory, modules); no secret is written."
  )

  @OptionGroup var options: RunbookOptions

  @Flag(help: "Write an Ansible project (the one format there is).")
  var ansible = false

  @Option(
    name: [.customShort("o"), .customLong("output")], help: "The project directory to write.")
  var output: String

  @Flag(help: "Write into a directory that is not empty.")
  var force = false

  func validate() throws {
    guard ansible else { throw ValidationError("say which format: --ansible") }
  }

  func run() throws {
    let outcome = options.preflight.run()
    try report(outcome.diagnostics)
    guard let plan = outcome.plan else { return }
    let runbookText = try String(contentsOfFile: options.runbook, encoding: .utf8)
    let inventory = try options.inventory.map {
      (name: $0, text: try String(contentsOfFile: $0, encoding: .utf8))
    }
    let export = AnsibleExport.make(
      plan: plan, runbookFile: options.runbook, runbookText: runbookText, inventory: inventory)
    try report(export.diagnostics)
    let manager = FileManager.default
    let existing = (try? manager.contentsOfDirectory(atPath: output)) ?? []
    if !existing.isEmpty, !force {
      var stderr = StandardError()
      print("\(output) is not empty; pass --force to write into it", to: &stderr)
      throw ExitStatus.invalid
    }
    for file in export.files {
      let url = URL(fileURLWithPath: output).appendingPathComponent(file.path)
      try manager.createDirectory(
        at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
      try file.text.write(to: url, atomically: true, encoding: .utf8)
    }
    print(
      "\(output): \(AnsibleExport.playbookName) with \(plan.steps.count) steps; run it there with ansible-playbook \(AnsibleExport.playbookName)"
    )
  }
}
