import Foundation
import Testing

/// A newcomer's first hour (issue 33): one command line works across subcommands, and the
/// errors met first say what to do.
@Suite(.serialized) struct NewcomerTests {
  typealias Workspace = SSHIntegrationTests.Workspace

  /// The connection options of `exec` are accepted by `check`, `plan` and `export`, and
  /// checked the same way by each.
  @Test func everySubcommandThatReadsAnInventoryTakesTheConnectionOptions() throws {
    let ws = try Workspace()
    defer { try? FileManager.default.removeItem(at: ws.dir) }
    try ws.write("r.md", "```sh {role=web}\ntrue\n```\n")
    try ws.write("hosts", "[web]\nw1 ansible_host=127.0.0.9\n")
    try ws.write("ssh_config", "Host *\n  StrictHostKeyChecking yes\n")
    let connection = [
      "-i", "hosts", "--ssh-config", "ssh_config", "--ssh-option",
      "StrictHostKeyChecking=accept-new", "--connect-timeout", "5", "--var", "x=1",
    ]
    let commands = [["check"], ["plan"], ["export", "--ansible", "-o", "project"]]
    for command in commands {
      let result = try CLI.run(command + ["r.md"] + connection, in: ws.dir)
      #expect(result.status == 0, "\(command): \(result.stderr)")
    }
    let config = try String(
      contentsOf: ws.dir.appendingPathComponent("project/ansible.cfg"), encoding: .utf8)
    #expect(config.contains("ssh_args = ") && config.contains("/ssh_config -o"), "\(config)")
    #expect(
      config.contains("-o StrictHostKeyChecking=accept-new") && config.contains("timeout = 5"))
    let wrong: [([String], String)] = [
      (["--ssh-option=-oProxyCommand=x"], "write it as Key=Value"),
      (["--ssh-config", "missing"], "no such readable file"),
      (["--connect-timeout", "0"], "1 to 3600 seconds"),
    ]
    for command in commands + [["exec"]] {
      for (options, message) in wrong {
        let result = try CLI.run(command + ["r.md", "-i", "hosts"] + options, in: ws.dir)
        #expect(result.status == 2, "\(command) \(options): \(result.stderr)")
        #expect(result.stderr.contains(message), "\(command) \(options): \(result.stderr)")
      }
    }
  }

  /// A host whose key ssh does not know, and one whose key changed: the preflight names the
  /// known_hosts file in use and the ways out, and the way it suggests works.
  @Test(.enabled(if: TestEnvironment.hasSSHD, "needs sshd: Scripts/setup --tests installs it"))
  func aHostKeyFailureSaysWhichKnownHostsAndWhatToDo() throws {
    let hosts = try SSHHosts(["k1"], base: 24200)
    defer { hosts.tearDown() }
    let ws = try Workspace()
    defer { try? FileManager.default.removeItem(at: ws.dir) }
    let known = ws.dir.appendingPathComponent("known_hosts").path
    try ws.write("known_hosts", "")
    let config = try String(contentsOfFile: hosts.sshConfig, encoding: .utf8)
      .split(separator: "\n").map {
        $0.contains("UserKnownHostsFile") ? "  UserKnownHostsFile \(known)" : String($0)
      }.joined(separator: "\n")
    try ws.write("ssh_config", config + "\n")
    try ws.write("r.md", "```sh {role=web}\ntrue\n```\n")
    try ws.write("hosts", hosts.inventory(groups: ["k1": "web"]))
    let host = hosts.hosts[0]
    let base = ["exec", "r.md", "-i", "hosts", "--ssh-config", "ssh_config", "--quiet"]

    let unknown = try CLI.run(base, in: ws.dir)
    #expect(unknown.status == 2, "\(unknown.stderr)")
    #expect(unknown.stderr.contains("Host key verification failed"), "\(unknown.stderr)")
    #expect(unknown.stderr.contains("known_hosts: \(known)"), "\(unknown.stderr)")
    #expect(
      unknown.stderr.contains("ssh-keyscan -p \(host.port) \(host.address) >> \(known)"),
      "\(unknown.stderr)")
    #expect(unknown.stderr.contains("--ssh-option StrictHostKeyChecking=accept-new"))

    // The way out it names works, and records the key.
    let accepted = try CLI.run(
      base + ["--ssh-option", "StrictHostKeyChecking=accept-new"], in: ws.dir)
    #expect(accepted.status == 0, "\(accepted.stdout)\(accepted.stderr)")
    #expect(
      (try? String(contentsOfFile: known, encoding: .utf8))?.contains(
        "[\(host.address)]:\(host.port)")
        == true)

    // A recorded key that is not the host's: the old key is to be removed, not accepted.
    let client = try String(
      contentsOf: hosts.dir.appendingPathComponent("client_key.pub"), encoding: .utf8)
    let otherKey = client.split(separator: " ").prefix(2).joined(separator: " ")
    try ws.write("known_hosts", "[\(host.address)]:\(host.port) \(otherKey)\n")
    let changed = try CLI.run(base, in: ws.dir)
    #expect(changed.status == 2, "\(changed.stderr)")
    #expect(
      changed.stderr.contains("ssh-keygen -R '[\(host.address)]:\(host.port)' -f \(known)"),
      "\(changed.stderr)")
  }
}
