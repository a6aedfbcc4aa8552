import Foundation

/// The inventory an exported project runs with. It is written from the plan, not copied:
/// Ansible reads every `ansible_*` variable of an inventory it is given (ssh arguments, an
/// ssh executable, templates in any value), so a copied inventory could make the playbook
/// run commands that `runbook exec` of the same files refuses or never runs.
extension AnsibleExport {
  /// The `ansible_*` variables `exec` reads, the only ones written to the project.
  static let connectionVariables: Set<String> = [
    "ansible_host", "ansible_port", "ansible_user", "ansible_ssh_private_key_file",
    "ansible_connection", "ansible_become", "ansible_become_password", "ansible_become_pass",
  ]

  /// A YAML inventory of the plan's hosts, with the connection settings `exec` uses (checked
  /// as `exec` checks them) and every group the steps target. Each string is `!unsafe`, so
  /// Ansible never evaluates it as a template. Notes say what was left out.
  static func inventoryYAML(plan: Plan, inventory: Inventory, file: String) -> (
    text: String, notes: [Diagnostic]
  ) {
    var notes: [Diagnostic] = []
    func unsafe(_ text: String) -> String { "!unsafe " + quoted(text) }
    var text = """
      # Written by runbook export from \(file): the hosts the runbook's steps run on, with the
      # connection settings runbook exec uses; !unsafe keeps Ansible from evaluating a value.
      all:
        hosts:\(plan.hosts.isEmpty ? " {}" : "")

      """
    for host in plan.hosts {
      text += "    \(quoted(host.name)):\n"
      var settings: [String] = []
      if host.connection == .local {
        settings.append("ansible_connection: local")
      } else {
        if host.address != host.name { settings.append("ansible_host: " + unsafe(host.address)) }
        if let port = host.port { settings.append("ansible_port: \(port)") }
        if let user = host.user { settings.append("ansible_user: " + unsafe(user)) }
        if let key = host.privateKeyFile {
          settings.append("ansible_ssh_private_key_file: " + unsafe(key))
        }
      }
      if host.become { settings.append("ansible_become: true") }
      text += settings.isEmpty ? "      {}\n" : settings.map { "      \($0)\n" }.joined()
    }
    let hostNames = Set(plan.hosts.map(\.name))
    let roles = Set(plan.steps.flatMap(\.step.attributes.roles))
    let groups = inventory.groupOrder.filter {
      roles.contains($0) && $0 != "all" && inventory.hosts[$0] == nil
    }
    if !groups.isEmpty { text += "  children:\n" }
    for group in groups {
      text += "    \(quoted(group)):\n      hosts:\n"
      let members = inventory.hosts(in: group).filter(hostNames.contains)
      text +=
        members.isEmpty ? "        {}\n" : members.map { "        \(quoted($0)): {}\n" }.joined()
    }

    if plan.hosts.contains(where: { $0.becomePassword != nil }) {
      notes.append(
        .note(
          file, 1,
          "the become password is not written to the project; give it to ansible-playbook with --become-password-file FILE (or -K)"
        ))
    }
    var ignored: Set<String> = []
    for name in plan.hosts.map(\.name) {
      for key in inventory.variables(of: name).keys
      where key.hasPrefix("ansible_") && !connectionVariables.contains(key) {
        ignored.insert(key)
      }
    }
    if !ignored.isEmpty {
      notes.append(
        .note(
          file, 1,
          "not written to the project, as runbook exec does not use them either: "
            + ignored.sorted().joined(separator: ", ")))
    }
    return (text, notes)
  }

  /// The `ssh_args` line for `--ssh-config` and `--ssh-option` (Ansible's own defaults
  /// first, which the line replaces), or nothing.
  static func sshArguments(_ ssh: SSHSettings?) -> String {
    guard let ssh, ssh.configFile != nil || !ssh.options.isEmpty else { return "" }
    let words =
      ["-C", "-o", "ControlMaster=auto", "-o", "ControlPersist=60s"]
      + (ssh.configFile.map { ["-F", $0] } ?? []) + ssh.options.flatMap { ["-o", $0] }
    return "ssh_args = " + words.map(ShellQuote.wordIfNeeded).joined(separator: " ") + "\n"
  }

  /// A YAML double-quoted string (JSON's escapes are YAML's).
  private static func quoted(_ text: String) -> String {
    let data = try? JSONSerialization.data(
      withJSONObject: [text], options: [.withoutEscapingSlashes])
    let list = data.map { String(decoding: $0, as: UTF8.self) } ?? "[\"\"]"
    return String(list.dropFirst().dropLast())
  }
}

extension AnsibleExport {
  /// Writes the project into `directory` (made, or reused), owner-only as a run directory
  /// is (0700 directories, 0600 files): it names the hosts, users and keys of an
  /// inventory, and the playbook is code that runs as root on them.
  public func write(to directory: String) throws {
    try PrivateFile.makeDirectory(directory)
    chmod(directory, 0o700)
    for file in files {
      let path = directory + "/" + file.path
      let parent = (path as NSString).deletingLastPathComponent
      try PrivateFile.makeDirectory(parent)
      chmod(parent, 0o700)
      guard PrivateFile.overwrite(path, with: file.text) else {
        throw RunDirectoryError("cannot write \(path): \(String(cString: strerror(errno)))")
      }
    }
  }
}
