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

  /// Written into the project's ansible.cfg, so the playbook connects as exec would.
  @OptionGroup var connection: ConnectionOptions

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
    var ssh = SSHSettings(controlDirectory: "")
    connection.apply(to: &ssh)
    // ansible-playbook runs in the project's directory: a relative path would point elsewhere.
    ssh.configFile = ssh.configFile.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
    let export = AnsibleExport.make(
      plan: plan, runbookFile: options.runbook, runbookText: runbookText, inventory: inventory,
      ssh: ssh)
    try report(export.diagnostics)
    let manager = FileManager.default
    let existing = (try? manager.contentsOfDirectory(atPath: output)) ?? []
    if !existing.isEmpty, !force {
      var stderr = StandardError()
      print("\(output) is not empty; pass --force to write into it", to: &stderr)
      throw ExitStatus.invalid
    }
    try export.write(to: output)
    print(
      "\(output): \(AnsibleExport.playbookName) with \(plan.steps.count) steps; run it there with ansible-playbook \(AnsibleExport.playbookName)"
    )
  }
}
