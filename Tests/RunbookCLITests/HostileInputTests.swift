import Foundation
import RunbookTestSupport
import Testing

/// Hostile and unlucky inputs crossed with each other and with every subcommand that reads
/// them (issue 25): an inventory x a runbook x a subcommand ends with a message, never a
/// signal.
@Suite struct HostileInputTests {
  typealias Workspace = SSHIntegrationTests.Workspace

  /// Inventories that leave the step's role without hosts, or whose range cannot be made,
  /// met a step with a reference: each pair, in each subcommand, with and without
  /// `--allow-empty-roles`, exits 0 or 2 with a message at a line, never by a signal.
  @Test func emptyRolesAndHugeRangesAreErrorsAtTheirLineInEverySubcommand() throws {
    let ws = try Workspace()
    defer { try? FileManager.default.removeItem(at: ws.dir) }
    try ws.write(
      "r.md",
      "# T\n\n```sh {role=db}\necho {{ x }} {{ host.address }} {{ inventory_hostname }}\n```\n")
    let inventories = [
      "empty.ini": "",
      "group.ini": "[db]\n",
      "reversed.ini": "[db]\nh[5:1]\n",
      "group.yml": "all:\n  children:\n    db: {}\n",
      "huge.ini": "[db]\nh[0:9223372036854775807]\n",
      "steps.ini": "[db]\nh[0:9223372036854775807:2]\n",
    ]
    let commands = [
      ["check"], ["plan"], ["plan", "--json"], ["exec", "--dry-run"], ["exec"],
      ["export", "--ansible", "-o", "project", "--force"],
    ]
    for (name, text) in inventories.sorted(by: { $0.key < $1.key }) {
      try ws.write(name, text)
      for command in commands {
        for extra in [[], ["--allow-empty-roles"]] {
          let arguments = command + ["r.md", "-i", name, "--var", "x=1"] + extra
          let result = try CLI.run(arguments, in: ws.dir)
          let said = "\(arguments): \(result.status) \(result.stdout) \(result.stderr)"
          #expect([0, 2].contains(result.status), "\(said)")
          #expect(!result.stderr.contains("crashed"), "\(said)")
          if result.status == 2 {
            #expect(
              result.stderr.contains("r.md:3: error:")
                || result.stderr.contains("\(name):2: error:"), "\(said)")
          } else {
            #expect(extra == ["--allow-empty-roles"], "\(said)")
            #expect(result.stderr.contains("r.md:3: warning: role 'db' has no hosts"), "\(said)")
          }
        }
      }
    }
  }

  /// A run directory on a full file system (a 256 KB tmpfs the test mounts): the step that
  /// cannot be logged fails saying why, nothing after it runs, the journal stays a chain of
  /// whole records ending with the run's end, and the tool exits 1 without a signal.
  @Test(.enabled(if: TestEnvironment.canMountTmpfs, "mounts a tmpfs: needs root and mount"))
  func aFullDiskFailsTheStepAndEndsTheRunCleanly() throws {
    let ws = try Workspace()
    defer { try? FileManager.default.removeItem(at: ws.dir) }
    let mount = ws.dir.appendingPathComponent("small")
    try FileManager.default.createDirectory(at: mount, withIntermediateDirectories: true)
    let (mounted, said) = try CLI.program(
      "/bin/mount", ["-t", "tmpfs", "-o", "size=256k", "tmpfs", mount.path])
    try #require(mounted == 0, "cannot mount a tmpfs here: \(said)")
    defer { _ = try? CLI.program("/bin/umount", [mount.path]) }
    try ws.write(
      "r.md",
      """
      ```sh {role=local name=big}
      head -c 400000 /dev/zero | tr '\\0' 'x'
      ```

      ```sh {role=local name=after}
      touch \(ws.dir.path)/after-ran
      ```
      """)
    let run = mount.appendingPathComponent("run").path
    let result = try CLI.run(["exec", "r.md", "--report-dir", run, "--quiet"], in: ws.dir)
    #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
    #expect(!result.stderr.contains("crashed"), "\(result.stderr)")
    #expect(result.stderr.contains("No space left on device"), "\(result.stderr)")
    #expect(
      !FileManager.default.fileExists(atPath: ws.dir.appendingPathComponent("after-ran").path))
    let lines = (try? String(contentsOfFile: run + "/journal.jsonl", encoding: .utf8)) ?? ""
    let records = lines.split(separator: "\n").map {
      (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any]
    }
    #expect(records.allSatisfy { $0 != nil }, "a torn line: \(lines.suffix(300))")
    let step = records.compactMap { $0 }.first { $0["type"] as? String == "step" }
    #expect(step?["status"] as? String == "failed")
    #expect((step?["reason"] as? String ?? "").contains("No space left on device"))
    #expect(records.last??["type"] as? String == "end")
    #expect(records.last??["status"] as? String == "failed")
  }

  /// What `exec` refuses the exported playbook does not run either (issue 25: a host name
  /// holding a quote ran a command through the export's shell text, and an `ansible_user`
  /// holding Jinja ran one on the control machine). Each inventory goes through `check`,
  /// `exec` and `export`; an export that is written runs through ansible-playbook against a
  /// real sshd. No marker file may appear, and the project is the operator's alone.
  @Test(
    .enabled(
      if: TestEnvironment.hasSSHD && TestEnvironment.hasAnsible,
      "needs sshd and ansible-core (Scripts/setup --tests)"))
  func aHostileInventoryRunsNothingThroughExecOrTheExport() throws {
    let hosts = try SSHHosts(["h1"], base: 24150)
    defer { hosts.tearDown() }
    let ws = try Workspace()
    defer { try? FileManager.default.removeItem(at: ws.dir) }
    let marker = ws.dir.appendingPathComponent("pwned").path
    let host = hosts.hosts[0]
    let good = "h1 ansible_host=\(host.address) ansible_port=\(host.port)"
    let seen = ws.dir.appendingPathComponent("host-seen").path
    try ws.write("r.md", "```sh {role=web}\nprintf %s \"$RUNBOOK_HOST\" > \(seen)\n```\n")
    let inventories: [(String, String, refused: Bool)] = [
      (
        "quote.ini",
        "[web]\n\"db1';touch${IFS}\(marker);'\" ansible_host=\(host.address) ansible_port=\(host.port)\n",
        true
      ),
      (
        "jinja-user.yml",
        "all:\n  children:\n    web:\n      hosts:\n        h1:\n          ansible_host: \(host.address)\n          ansible_port: \(host.port)\n          ansible_user: \"{{lookup('pipe','touch${IFS}\(marker)')|default('root',true)}}\"\n",
        true
      ),
      (
        "jinja-host.ini",
        "[web]\nh1 ansible_host=\"{{lookup('pipe','touch\\ \(marker)')}}\" ansible_port=\(host.port)\n",
        true
      ),
      ("dollar-user.ini", "[web]\n\(good) ansible_user=root$(touch\\ \(marker))\n", true),
      (
        "ssh-args.ini",
        "[web]\n\(good) ansible_ssh_common_args='-o ProxyCommand=\"touch \(marker)\"'\n", false
      ),
      (
        "ssh-exe.ini",
        "[web]\n\(good) ansible_ssh_executable=/bin/touch\n[web:vars]\nx=\"{{ lookup('pipe', 'touch \(marker)') }}\"\n",
        false
      ),
    ]
    for (name, text, refused) in inventories {
      try ws.write(name, text)
      for command in [["check"], ["exec", "--ssh-config", hosts.sshConfig]] {
        let result = try CLI.run(command + ["r.md", "-i", name], in: ws.dir)
        #expect(
          result.status == (refused ? 2 : 0), "\(name) \(command): \(result.stdout)\(result.stderr)"
        )
        #expect(!FileManager.default.fileExists(atPath: marker), "\(name) \(command) ran it")
      }
      let project = "project-\(name)"
      let exported = try CLI.run(
        ["export", "r.md", "-i", name, "--ansible", "-o", project], in: ws.dir)
      #expect(exported.status == (refused ? 2 : 0), "\(name) export: \(exported.stderr)")
      guard exported.status == 0 else { continue }
      let dir = ws.dir.appendingPathComponent(project)
      for path in [""] + ExportTests.tree(dir).keys.map({ "/" + $0 }) {
        let mode =
          (try? FileManager.default.attributesOfItem(atPath: dir.path + path))?[.posixPermissions]
          as? Int
        #expect(mode.map { $0 & 0o077 } == 0, "\(name): \(path) is \(String(mode ?? 0, radix: 8))")
      }
      try? FileManager.default.removeItem(atPath: seen)
      let (status, printed) = try ExportTests.playbook(in: dir, hosts: hosts, environment: [:])
      #expect(status == 0, "\(name): \(printed)")
      #expect((try? String(contentsOfFile: seen, encoding: .utf8)) == "h1", "\(name): \(printed)")
      #expect(!FileManager.default.fileExists(atPath: marker), "\(name): ansible-playbook ran it")
    }
  }

  /// A host that takes the ssh connection but never starts the session's shell (its sshd
  /// forces `sleep`): a step's timeout counts from the moment the session is asked for, the
  /// connect timeout gives the host up with a reason, and SIGTERM ends the run at once as
  /// interrupted (issue 25: such a host held a `timeout=2s` step for 40-100 s and SIGTERM
  /// was ignored meanwhile).
  @Test(.enabled(if: TestEnvironment.hasSSHD, "needs sshd: Scripts/setup --tests installs it"))
  func aHostThatNeverStartsTheSessionIsStoppedByTimeoutsAndSignals() throws {
    let hosts = try SSHHosts(["hung"], base: 24250)
    defer { hosts.tearDown() }
    let config = hosts.dir.appendingPathComponent("hung/sshd_config")
    let text = try String(contentsOf: config, encoding: .utf8)
    try (text + "ForceCommand sleep 300\n").write(to: config, atomically: true, encoding: .utf8)
    try hosts.stop("hung")
    try hosts.start("hung")
    let ws = try Workspace()
    defer { try? FileManager.default.removeItem(at: ws.dir) }
    try ws.write("hosts", hosts.inventory(groups: ["hung": "web"]))
    try ws.write("timed.md", "```sh {role=web name=timed timeout=2s}\ntrue\n```\n")
    try ws.write("plain.md", "```sh {role=web name=plain}\ntrue\n```\n")
    let base = ["-i", "hosts", "--ssh-config", hosts.sshConfig, "--quiet"]
    let clock = ContinuousClock()

    var began = clock.now
    let timed = try CLI.run(["exec", "timed.md", "--report-dir", "timed"] + base, in: ws.dir)
    #expect(timed.status == 1, "\(timed.stdout)\(timed.stderr)")
    #expect(began.duration(to: clock.now) < .seconds(15))
    #expect(ws.steps("timed").last?["status"] as? String == "timeout")

    began = clock.now
    let given = try CLI.run(
      ["exec", "plain.md", "--report-dir", "plain", "--connect-timeout", "3"] + base, in: ws.dir)
    #expect(given.status == 1, "\(given.stdout)\(given.stderr)")
    #expect(began.duration(to: clock.now) < .seconds(15))
    let reason = ws.steps("plain").last?["reason"] as? String ?? ""
    #expect(reason.contains("session did not start within 3s"), "\(reason)")

    let running = try CLI.start(["exec", "plain.md", "--report-dir", "term"] + base, in: ws.dir)
    // Once the step has been handed to the host (its start record is in the journal).
    #expect(eventually { ws.journal("term").contains { $0["type"] as? String == "start" } })
    began = clock.now
    running.process.terminate()
    let result = CLI.finish(running)
    #expect(began.duration(to: clock.now) < .seconds(5))
    #expect(result.status == 130, "\(result.stdout)\(result.stderr)")
    #expect(ws.steps("term").last?["status"] as? String == "interrupted")
  }

  /// The ssh control directory a killed run left in /tmp is removed by the next run; one
  /// whose run is alive is left alone.
  @Test func aDeadRunsSSHControlDirectoryIsRemovedAtTheNextStart() throws {
    let ws = try Workspace()
    defer { try? FileManager.default.removeItem(at: ws.dir) }
    let gone = Process()
    gone.executableURL = URL(fileURLWithPath: "/bin/true")
    try gone.run()
    gone.waitUntilExit()
    let dead = "/tmp/runbook-ssh-\(gone.processIdentifier)-test\(UUID().uuidString.prefix(6))"
    let alive = "/tmp/runbook-ssh-\(getpid())-test\(UUID().uuidString.prefix(6))"
    for dir in [dead, alive] {
      try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }
    defer { try? FileManager.default.removeItem(atPath: alive) }
    try ws.write("r.md", "```sh {role=local}\ntrue\n```\n")
    let result = try CLI.run(["exec", "r.md", "--report-dir", "run", "--quiet"], in: ws.dir)
    #expect(result.status == 0, "\(result.stderr)")
    #expect(!FileManager.default.fileExists(atPath: dead))
    #expect(FileManager.default.fileExists(atPath: alive))
  }

  /// A failed step's record and log cut off the journal's end, and the reports rendered
  /// again from what is left: the chain is whole, so only the operator's ledger (outside
  /// the run directory) can tell, and `verify` does.
  @Test func aJournalCutBeforeAFailedStepFailsVerifyByTheLedger() throws {
    let ws = try Workspace()
    defer { try? FileManager.default.removeItem(at: ws.dir) }
    let state = ["XDG_STATE_HOME": ws.dir.appendingPathComponent("state").path]
    try ws.write(
      "r.md",
      "```sh {role=local name=fine}\necho fine\n```\n\n```sh {role=local name=broken}\necho broken; exit 3\n```\n"
    )
    let run = try CLI.run(
      ["exec", "r.md", "--report-dir", "run", "--quiet"], in: ws.dir, environment: state)
    #expect(run.status == 1, "\(run.stderr)")
    let clean = try CLI.run(["verify", "run"], in: ws.dir, environment: state)
    #expect(clean.status == 0, "\(clean.stdout)\(clean.stderr)")

    let lines = (ws.read("run/journal.jsonl") ?? "").split(separator: "\n")
    let cut = try #require(lines.firstIndex { $0.contains("\"step\":\"broken\"") })
    try ws.write("run/journal.jsonl", lines[..<cut].joined(separator: "\n") + "\n")
    try? FileManager.default.removeItem(at: ws.dir.appendingPathComponent("run/logs/002-broken"))
    let rendered = try CLI.run(["report", "run"], in: ws.dir, environment: state)
    #expect(rendered.status == 0, "\(rendered.stderr)")
    let plain = try CLI.run(["verify", "run"], in: ws.dir, environment: state)
    #expect(plain.status == 1, "\(plain.stdout)\(plain.stderr)")
    #expect(
      (plain.stdout + plain.stderr).contains("journal.jsonl: ends before the record whose digest"))
  }
}
