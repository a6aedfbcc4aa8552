import Crypto
import Foundation

extension AnsibleExport {
  /// Adds the project's inventory, written from the plan when the run has an inventory
  /// file, else every role as this machine; returns its file name.
  mutating func addInventory(plan: Plan, inventory: (name: String, text: String)?) -> String {
    if let inventory, let parsed = plan.inventory {
      let (text, notes) = Self.inventoryYAML(plan: plan, inventory: parsed, file: inventory.name)
      files.append(File(path: "inventory.yml", text: text))
      diagnostics += notes
      return "inventory.yml"
    }
    let roles = Set(plan.steps.flatMap(\.step.attributes.roles)).sorted()
    let text =
      "# Every role is this machine, as for runbook exec without --inventory.\n"
      + roles.map { "[\($0)]\nlocalhost ansible_connection=local\n" }.joined(separator: "\n")
    files.append(File(path: "inventory.ini", text: text))
    return "inventory.ini"
  }

  /// `ansible.cfg`: the project's own plugins, the journal callback, and SSH as exec uses it.
  static func configuration(inventoryName: String, ssh: SSHSettings?) -> File {
    File(
      path: "ansible.cfg",
      text: """
        [defaults]
        inventory = \(inventoryName)
        library = library
        filter_plugins = filter_plugins
        callback_plugins = callback_plugins
        callbacks_enabled = runbook_journal
        interpreter_python = auto_silent
        host_key_checking = True
        timeout = \(ssh?.connectTimeout ?? SSHSettings.defaultConnectTimeout)

        [ssh_connection]
        pipelining = True
        \(sshArguments(ssh))
        """)
  }

  /// The secrets, each read from its `RUNBOOK_SECRET_<NAME>` when a task uses it.
  static func secretsFile(_ plan: Plan) -> File? {
    guard !plan.secretNames.isEmpty else { return nil }
    let lines = plan.secretNames.sorted().map {
      "\($0): \"{{ lookup('ansible.builtin.env', 'RUNBOOK_SECRET_\($0.uppercased())') }}\"\n"
    }
    return File(
      path: "group_vars/all/runbook_secrets.yml",
      text: "# Read from the environment when a task uses them; no value is stored here.\n"
        + lines.joined())
  }

  /// What the journal callback needs to write runbook's records: the run's identity and
  /// each step's.
  static func runMetadata(
    plan: Plan, runbookFile: String, runbookText: String,
    inventory: (name: String, text: String)?
  ) -> File? {
    var steps: [String: Any] = [:]
    for planned in plan.steps {
      let step = planned.step
      var entry: [String: Any] = [
        "id": step.id, "index": step.index, "kind": step.kind.rawValue, "line": step.line,
        "headingPath": step.headingPath,
        "contentSHA256": Digest.hex(SHA256.hash(data: Data(step.body.utf8))),
        // A step with an output check (a transcript, expect=) is recorded after the check.
        "checked": step.kind.handler.checksItsOutput || step.attributes.expect != nil,
      ]
      // A captured value is recorded as exec records it; a secret one is masked.
      if let name = step.attributes.capture {
        entry["capture"] = name
        entry["captureSecret"] = plan.secretNames.contains(name)
      }
      steps[String(step.index)] = entry
    }
    let runbookName = (runbookFile as NSString).lastPathComponent
    var meta: [String: Any] = [
      "runbook": runbookName, "title": plan.runbook.title,
      "runbookSHA256": Digest.hex(SHA256.hash(data: Data(runbookText.utf8))),
      "stepCount": plan.runbook.steps.count, "hosts": plan.hosts.map(\.name),
      "toolVersion": RunbookVersion.current + " (exported; run by ansible-playbook)",
      "steps": steps,
      // The callback masks these secrets' values (from RUNBOOK_SECRET_<NAME>) in what it writes.
      "secrets": plan.secretNames.sorted(),
    ]
    if let inventory {
      meta["inventory"] = (inventory.name as NSString).lastPathComponent
      meta["inventorySHA256"] = Digest.hex(SHA256.hash(data: Data(inventory.text.utf8)))
    }
    guard
      let data = try? JSONSerialization.data(
        withJSONObject: meta, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])
    else { return nil }
    return File(path: "runbook-run.json", text: String(decoding: data, as: UTF8.self) + "\n")
  }

  /// The runbook's snapshot for the run directory, unless it holds a secret's value.
  mutating func addRunbookCopy(plan: Plan, runbookFile: String, runbookText: String) {
    if let line = plan.masker.secrets.filter({ $0.count >= 4 })
      .compactMap({ Self.line(of: $0, in: runbookText) }).min()
    {
      diagnostics.append(
        .warning(
          runbookFile, line,
          "the runbook holds a secret's value, so it is not copied: the run directory the playbook writes has no runbook snapshot to report on; move the value to --vars-file or RUNBOOK_SECRET_<NAME>"
        ))
    } else {
      files.append(File(path: "runbook.md", text: runbookText))
    }
  }

  /// A secret value known to the plan appears in no file (the inventory is written from
  /// the plan: a secret the inventory file sets is not carried); an error names each file.
  mutating func refuseLeakedSecrets(plan: Plan, runbookFile: String, runbookText: String) {
    var leaked: [String: Int] = [:]
    for secret in plan.masker.secrets where secret.count >= 4 {
      for file in files {
        guard let line = Self.line(of: secret, in: file.text) else { continue }
        leaked[file.path] = min(leaked[file.path] ?? line, line)
      }
    }
    let firstLine = plan.masker.secrets.compactMap { Self.line(of: $0, in: runbookText) }.min() ?? 1
    for (path, line) in leaked.sorted(by: { $0.key < $1.key }) {
      diagnostics.append(
        .error(
          runbookFile, firstLine,
          "a secret value would be written to \(path) (line \(line)); not exported"))
    }
  }
}
