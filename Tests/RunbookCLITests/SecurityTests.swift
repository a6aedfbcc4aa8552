import Foundation
import RunbookTestSupport
import Testing

/// The built binary against hostile inventories, forged output, secrets, two writers and
/// a killed tool (issue 9): real processes, real sshd on loopback.
@Suite(.serialized) struct SecurityTests {
  typealias Workspace = SSHIntegrationTests.Workspace

  /// Every file under `dir` with its text, for searching a run directory whole.
  static func allText(under dir: URL) -> [(String, String)] {
    let files = FileManager.default.enumerator(atPath: dir.path)?.compactMap { $0 as? String } ?? []
    return files.compactMap { name in
      let url = dir.appendingPathComponent(name)
      guard let data = FileManager.default.contents(atPath: url.path) else { return nil }
      return (name, String(decoding: data, as: UTF8.self))
    }
  }

  static func occurrences(of value: String, in ws: Workspace, run: String, output: CLI.Result)
    -> [String]
  {
    var places = allText(under: ws.dir.appendingPathComponent(run)).filter {
      $0.1.contains(value)
    }.map(\.0)
    if output.stdout.contains(value) { places.append("stdout") }
    if output.stderr.contains(value) { places.append("stderr") }
    return places
  }

  @Test func aHostileInventoryRunsNothingOnTheControlMachine() throws {
    let ws = try Workspace()
    defer { try? FileManager.default.removeItem(at: ws.dir) }
    let marker = ws.dir.appendingPathComponent("pwned").path
    try ws.write("r.md", "```sh {role=web}\ntrue\n```\n")
    let inventories = [
      "name.ini": "[web]\n\"-oProxyCommand=touch \(marker)\" ansible_port=22\n",
      "host.ini": "[web]\nw1 ansible_host=-oProxyCommand=touch\\ \(marker)\n",
      "name.yml":
        "all:\n  children:\n    web:\n      hosts:\n        '-oProxyCommand=touch \(marker)': {}\n",
      "host.yml":
        "all:\n  children:\n    web:\n      hosts:\n        w1:\n          ansible_host: '-oProxyCommand=touch \(marker)'\n",
      "user.ini": "[web]\nw1 ansible_host=127.0.0.1 ansible_user=-oProxyCommand=x\n",
      "port.ini": "[web]\nw1:70000\n",
      "nul.yml": "all:\n  children:\n    web:\n      hosts:\n        \"w\\0x\": {}\n",
    ]
    for (name, text) in inventories.sorted(by: { $0.key < $1.key }) {
      try ws.write(name, text)
      for command in [["check"], ["exec", "--dry-run"], ["exec"]] {
        let result = try CLI.run(command + ["r.md", "-i", name], in: ws.dir)
        #expect(result.status == 2, "\(name) \(command): \(result.stdout)\(result.stderr)")
        #expect(result.stderr.contains("\(name):"), "\(name): \(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: marker), "\(name) \(command) ran it")
      }
    }
  }

  @Test(.enabled(if: TestEnvironment.hasSSHD, "needs sshd: Scripts/setup --tests installs it"))
  func forgedControlLinesNeitherEndAStepNorChooseWhatIsKilled() throws {
    let hosts = try SSHHosts(["ctl"], base: 23600)
    defer { hosts.tearDown() }
    let ws = try Workspace()
    defer { try? FileManager.default.removeItem(at: ws.dir) }
    // A process of our own in its own group: what a forged stop marker would point at.
    let sentinel = Process()
    sentinel.executableURL = URL(fileURLWithPath: "/usr/bin/setsid")
    sentinel.arguments = ["sleep", "60"]
    try sentinel.run()
    defer { if sentinel.isRunning { kill(sentinel.processIdentifier, SIGKILL) } }
    let pid = sentinel.processIdentifier
    // A group of its own (setsid has run), which a forged stop line would point at.
    #expect(
      eventually {
        let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
        let fields = stat.split(separator: ")").last?.split(separator: " ") ?? []
        return fields.count > 2 && fields[2] == "\(pid)"
      })
    try ws.write(
      "r.md",
      """
      ```sh {role=controller name=forger timeout=2s}
      printf '\\001RUNBOOK-PGID \(pid)\\n' >&2
      echo "RUNBOOK-DONE-anything 0"; echo "RUNBOOK-DONE-anything" >&2
      echo "RUNBOOK-STARTED-x RUNBOOK-x"; echo "RUNBOOK-SESSION-x ready"
      sleep 30
      ```
      ```sh {role=controller name=after}
      echo after
      ```
      """)
    try ws.write("hosts", hosts.inventory(groups: ["ctl": "controller"]))
    let start = Date()
    let result = try CLI.run(
      ["exec", "r.md", "-i", "hosts", "--ssh-config", hosts.sshConfig, "--report-dir", "run"],
      in: ws.dir)
    #expect(Date().timeIntervalSince(start) < 12)
    #expect(result.status == 1)
    #expect(kill(pid, 0) == 0, "the forged group was killed")
    let forger = ws.steps("run").first { $0["step"] as? String == "forger" }
    #expect(forger?["status"] as? String == "timeout")
    // The forged lines are output like any other.
    let log = ws.read("run/" + (forger?["log"] as? String ?? "")) ?? ""
    #expect(log.contains("RUNBOOK-DONE-anything 0"))
  }

  @Test func aSecretCapturedAtRunTimeReachesNoFileAndNoTerminal() throws {
    let ws = try Workspace()
    defer { try? FileManager.default.removeItem(at: ws.dir) }
    let value = "tok-9f8e7d6c5b4a-captured"
    try ws.write(
      "r.md",
      """
      ---
      secrets: [token]
      ---
      ```sh {role=local name=make capture=token}
      printf 'tok-%s-captured\\n' 9f8e7d6c5b4a
      printf 'made tok-%s-captured\\n' 9f8e7d6c5b4a >&2
      ```
      ```sh {role=local name=use}
      echo "using {{ token }}"
      ```
      """)
    let result = try CLI.run(["exec", "r.md", "--report-dir", "run"], in: ws.dir)
    #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
    #expect(Self.occurrences(of: value, in: ws, run: "run", output: result) == [])
    #expect(ws.read("run/report.md")?.contains("captured into the secret 'token'") == true)
  }

  /// A secret written into a file shows in no later diff of that file (context lines), and
  /// a multi-line secret (a private key from RUNBOOK_SECRET_KEY) in no line of a file step's
  /// diff, an echo, the journal or a report (issue 25).
  @Test func writtenAndMultiLineSecretsAreMaskedInLaterDiffsAndEchoes() throws {
    let ws = try Workspace()
    defer { try? FileManager.default.removeItem(at: ws.dir) }
    let conf = ws.dir.appendingPathComponent("redis.conf").path
    let key = ws.dir.appendingPathComponent("id_key").path
    let keyLines = [
      "-----BEGIN OPENSSH PRIVATE KEY-----", "b3BlbnNzaC1rZXktdjEAAAAABG5vbmU",
      "AAAAC3NzaC1lZDI1NTE5AAAAIGVy", "-----END OPENSSH PRIVATE KEY-----",
    ]
    try ws.write("redis.conf", "bind 127.0.0.1\nport 6379\n")
    try ws.write(
      "r.md",
      """
      ---
      secrets: [pw, key]
      ---
      ```text {role=local name=requirepass file=\(conf) append}
      requirepass "{{ pw }}"
      ```
      ```text {role=local name=memory file=\(conf) append}
      maxmemory 2gb
      ```
      ```text {role=local name=key-file file=\(key) mode=0600}
      {{ key }}
      ```
      ```sh {role=local name=echo}
      cat \(key)
      ```
      """)
    let result = try CLI.run(
      ["exec", "r.md", "--report-dir", "run"], in: ws.dir,
      environment: [
        "RUNBOOK_SECRET_PW": "hunter2-redis-pass",
        "RUNBOOK_SECRET_KEY": keyLines.joined(separator: "\n"),
      ])
    #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
    #expect(ws.read("redis.conf")?.contains("hunter2-redis-pass") == true)
    for value in ["hunter2-redis-pass", keyLines[1], keyLines[2]] {
      #expect(Self.occurrences(of: value, in: ws, run: "run", output: result) == [], "\(value)")
    }
  }

  @Test func aRotatedSecretIsMaskedOnBothSidesOfAFileDiff() throws {
    let ws = try Workspace()
    defer { try? FileManager.default.removeItem(at: ws.dir) }
    let file = ws.dir.appendingPathComponent("app.conf").path
    try ws.write("app.conf", "[db]\nhost = x\npassword = OLD-pw-1234\n")
    try ws.write(
      "r.md",
      """
      ---
      secrets: [pw]
      ---
      ```ini {role=local file=\(file) section=db}
      password = {{ pw }}
      ```
      ```sh {role=local file=\(file).copy}
      password: {{ pw }}
      ```
      """)
    try ws.write("app.conf.copy", "password: OLD-pw-1234\nother: kept\n")
    let result = try CLI.run(
      ["exec", "r.md", "--var", "pw=NEW-pw-5678", "--report-dir", "run"], in: ws.dir)
    #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
    #expect(ws.read("app.conf")?.contains("password = NEW-pw-5678") == true)
    for secret in ["OLD-pw-1234", "NEW-pw-5678"] {
      #expect(Self.occurrences(of: secret, in: ws, run: "run", output: result) == [], "\(secret)")
    }
    #expect(ws.read("run/report.md")?.contains("-password = ********") == true)
  }

  @Test(.enabled(if: TestEnvironment.hasSSHD, "needs sshd: Scripts/setup --tests installs it"))
  func aSecretInsideAVeryLongLineIsMaskedWherever_the_lineIsCut() throws {
    let hosts = try SSHHosts(["ctl"], base: 23700)
    defer { hosts.tearDown() }
    let ws = try Workspace()
    defer { try? FileManager.default.removeItem(at: ws.dir) }
    let secret = "S" + String(repeating: "ecret-", count: 20) + "end"
    // The secret straddles the 64 KiB boundaries of the first and second pieces.
    try ws.write(
      "r.md",
      """
      ---
      secrets: [s]
      ---
      ```sh {role=controller,local name=long}
      head -c 65500 /dev/zero | tr '\\0' a; printf '%s' '{{ s }}'
      head -c 65470 /dev/zero | tr '\\0' b; printf '%s' '{{ s }}'
      head -c 200000 /dev/zero | tr '\\0' c; echo
      ```
      """)
    try ws.write(
      "hosts",
      hosts.inventory(groups: ["ctl": "controller"]) + "\n[local]\nme ansible_connection=local\n")
    let result = try CLI.run(
      [
        "exec", "r.md", "-i", "hosts", "--ssh-config", hosts.sshConfig, "--var", "s=\(secret)",
        "--report-dir", "run",
      ], in: ws.dir)
    #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
    #expect(Self.occurrences(of: secret, in: ws, run: "run", output: result) == [])
    #expect(Self.occurrences(of: "ecret-ecret-", in: ws, run: "run", output: result) == [])
  }

  @Test func theRunDirectoryIsTheOperatorsAndScriptHashesWithSecretsAreKeyed() throws {
    let ws = try Workspace()
    defer { try? FileManager.default.removeItem(at: ws.dir) }
    try ws.write(
      "r.md",
      "---\nsecrets: [pin]\n---\n```sh {role=local name=uses}\ntest {{ pin }} = 1234\n```\n```sh {role=local name=plain}\ntrue\n```\n"
    )
    let result = try CLI.run(
      ["exec", "r.md", "--var", "pin=1234", "--report-dir", "run"], in: ws.dir)
    #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
    let run = ws.dir.appendingPathComponent("run").path
    func mode(_ path: String) -> Int {
      ((try? FileManager.default.attributesOfItem(atPath: path)[.posixPermissions]) as? Int) ?? -1
    }
    #expect(mode(run) == 0o700)
    // Every file and folder, logs/ and its step folders included.
    let entries = FileManager.default.enumerator(atPath: run)?.compactMap { $0 as? String } ?? []
    #expect(entries.contains("logs") && entries.contains("journal.jsonl"))
    for name in entries {
      #expect(mode(run + "/" + name) & 0o077 == 0, "\(name) is readable by others")
    }
    let steps = ws.steps("run")
    let keyed = steps.first { $0["step"] as? String == "uses" }?["contentSHA256"] as? String
    let plain = steps.first { $0["step"] as? String == "plain" }?["contentSHA256"] as? String
    #expect(keyed?.hasPrefix("hmac-sha256:") == true)
    #expect(plain?.count == 64)
  }

  @Test func oneWriterPerRunDirectory() throws {
    let ws = try Workspace()
    defer { try? FileManager.default.removeItem(at: ws.dir) }
    try ws.write("r.md", "```sh {role=local name=slow}\nsleep 2\necho x >> slow.txt\n```\n")
    try ws.write("other.md", "```sh {role=local}\ntrue\n```\n")
    let first = try CLI.start(["exec", "r.md", "--report-dir", "run"], in: ws.dir)
    // The lock is taken before the journal's first record.
    #expect(eventually { ws.journal("run").contains { $0["type"] as? String == "start" } })
    let second = try CLI.run(["exec", "r.md", "--report-dir", "run"], in: ws.dir)
    #expect(second.status == 2)
    #expect(second.stderr.contains("in use by another runbook process"), "\(second.stderr)")
    let resumeWhileRunning = try CLI.run(["exec", "r.md", "--resume", "run"], in: ws.dir)
    #expect(resumeWhileRunning.status == 2)
    #expect(CLI.finish(first).status == 0)
    #expect(ws.read("slow.txt") == "x\n")

    let again = try CLI.run(["exec", "r.md", "--report-dir", "run"], in: ws.dir)
    #expect(again.status == 2)
    #expect(again.stderr.contains("already holds a run"), "\(again.stderr)")
    let missing = try CLI.run(["exec", "r.md", "--resume", "nowhere"], in: ws.dir)
    #expect(missing.status == 2)
    #expect(missing.stderr.contains("no such run directory"), "\(missing.stderr)")
    let otherRunbook = try CLI.run(["exec", "other.md", "--resume", "run"], in: ws.dir)
    #expect(otherRunbook.status == 2)
    #expect(otherRunbook.stderr.contains("not other.md"), "\(otherRunbook.stderr)")
    try ws.write("afile", "x")
    let onFile = try CLI.run(["exec", "r.md", "--report-dir", "afile"], in: ws.dir)
    #expect(onFile.status == 2)
    #expect(onFile.stderr.contains("is a file, not a directory"), "\(onFile.stderr)")
    #expect(ws.read("slow.txt") == "x\n")
  }

  @Test func aKilledToolThenResumeRunsNothingTwice() throws {
    let ws = try Workspace()
    defer { try? FileManager.default.removeItem(at: ws.dir) }
    try ws.write(
      "r.md",
      "```sh {role=local name=slow}\nsleep 2\necho x >> slow.txt\n```\n```sh {role=local name=next}\necho y >> next.txt\n```\n"
    )
    let running = try CLI.start(["exec", "r.md", "--report-dir", "run"], in: ws.dir)
    // What the host's session loop has written of the step: its started and done lines.
    func hostSays(_ word: String) -> Bool {
      let journal = ws.journal("run")
      guard let token = journal.first?["stateToken"] as? String,
        let attemptID = journal.first(where: { $0["type"] as? String == "start" })?["attemptID"]
          as? String
      else { return false }
      let state = "/tmp/runbook-state-\(token)"
      let files = (try? FileManager.default.contentsOfDirectory(atPath: state)) ?? []
      return files.filter { $0.hasPrefix("status-") }.contains { name in
        let text = (try? String(contentsOfFile: state + "/" + name, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").contains { $0.hasPrefix("\(attemptID) \(word) ") }
      }
    }
    #expect(eventually { hostSays("started") })
    kill(running.process.processIdentifier, SIGKILL)
    _ = CLI.finish(running)
    // Until then, the host keeps them: the state of the lost step is what the resume asks.
    let lostToken = ws.journal("run").first?["stateToken"] as? String ?? "none"
    #expect(FileManager.default.fileExists(atPath: "/tmp/runbook-state-\(lostToken)"))
    // The lost step goes on without the tool; the resume finds it finished.
    #expect(eventually { hostSays("done") })
    let resumed = try CLI.run(["exec", "r.md", "--resume", "run"], in: ws.dir)
    #expect(resumed.status == 0, "\(resumed.stdout)\(resumed.stderr)")
    #expect(ws.read("slow.txt") == "x\n")
    #expect(ws.read("next.txt") == "y\n")
    let slow = ws.steps("run").filter { $0["step"] as? String == "slow" }
    #expect(slow.map { $0["status"] as? String } == ["ok"])
    #expect((slow.first?["reason"] as? String)?.contains("finished on the host") == true)
    // The host forgets the run's step states once every end is known here.
    let token = ws.journal("run").first?["stateToken"] as? String ?? "none"
    #expect(!FileManager.default.fileExists(atPath: "/tmp/runbook-state-\(token)"))
  }

  @Test func hostileInputsAreErrorsAtTheirLinesNeverCrashesOrHangs() throws {
    let ws = try Workspace()
    defer { try? FileManager.default.removeItem(at: ws.dir) }
    var bomb = "---\nvars:\n  a0: &a0 [x, x, x, x, x, x, x, x, x]\n"
    for i in 1..<10 {
      bomb +=
        "  a\(i): &a\(i) [" + Array(repeating: "*a\(i - 1)", count: 9).joined(separator: ", ")
        + "]\n"
    }
    bomb += "---\n```sh {role=local}\ntrue\n```\n"
    var doubling = "---\nvars:\n  v0: x\n"
    for i in 1..<30 { doubling += "  v\(i): \"{{ v\(i - 1) }}{{ v\(i - 1) }}\"\n" }
    doubling += "---\n```sh {role=local}\necho {{ v29 }}\n```\n"
    let inventoryBomb = bomb.replacingOccurrences(of: "---\nvars:", with: "all:\n  vars:")
      .components(separatedBy: "---\n```")[0].replacingOccurrences(of: "\n  a", with: "\n    a")
    let cases: [(name: String, runbook: String, inventory: String?, expected: String)] = [
      ("bomb", bomb, nil, "r.md:2: error: front matter: YAML expands"),
      ("double", doubling, nil, "grows past 4 MB"),
      ("timeout", "```sh {role=local timeout=9223372036854775807s}\ntrue\n```\n", nil, "r.md:1:"),
      ("delay", "```sh {role=local retries=1 delay=200h}\ntrue\n```\n", nil, "7 days"),
      ("zero", "```sh {role=local timeout=0}\ntrue\n```\n", nil, "more than 0"),
      (
        "dupkey", "---\nvars:\n  a: 1\n  b: 2\n  a: 3\n---\n```sh {role=local}\ntrue\n```\n", nil,
        "r.md:5: error: front matter: duplicate key a"
      ),
      ("regex", "```sh {role=local expect=\"(\"}\ntrue\n```\n", nil, "not a valid regular"),
      (
        "range", "```sh {role=web}\ntrue\n```\n", "[web]\nh[0:99999999]\n", "more than 100000 hosts"
      ),
      (
        "nested", "```sh {role=web}\ntrue\n```\n", "[web]\nh[0:999]-[0:999]\n",
        "more than 100000 hosts"
      ),
      (
        "invbomb", "```sh {role=all}\ntrue\n```\n", inventoryBomb + "  hosts:\n    h1:\n", "expands"
      ),
    ]
    for item in cases {
      try ws.write("r.md", item.runbook)
      var args = ["check", "r.md"]
      if let inventory = item.inventory {
        try ws.write("inv", inventory)
        args += ["-i", "inv"]
      }
      let start = Date()
      let result = try CLI.run(args, in: ws.dir)
      #expect(Date().timeIntervalSince(start) < 10, "\(item.name) took too long")
      #expect(result.status == 2, "\(item.name): \(result.stdout)\(result.stderr)")
      #expect(result.stderr.contains(item.expected), "\(item.name): \(result.stderr)")
      #expect(!result.stderr.contains("crashed"), "\(item.name)")
    }
    // A deeply nested host value is a string, as in Ansible (CPython refuses > 200 levels).
    let deep = String(repeating: "[", count: 50_000) + String(repeating: "]", count: 50_000)
    try ws.write("inv", "[web]\nh1 ansible_connection=local x=\(deep)\n")
    try ws.write("r.md", "```sh {role=web}\ntrue\n```\n")
    let deepResult = try CLI.run(["check", "r.md", "-i", "inv"], in: ws.dir)
    #expect(deepResult.status == 0, "\(deepResult.stderr)")
    // Prose that holds the report's old placeholder words renders as prose.
    try ws.write("p.md", "# T\n\nRUNBOOKSHOT1 and RUNBOOKSTEP0\n\n    RUNBOOKSTEP0\n")
    let prose = try CLI.run(["exec", "p.md", "--report-dir", "prose"], in: ws.dir)
    #expect(prose.status == 0, "\(prose.stderr)")
    #expect(ws.read("prose/report.html")?.contains("RUNBOOKSHOT1 and RUNBOOKSTEP0") == true)
    let secret = try CLI.run(["check", "p.md", "--secret", "a b"], in: ws.dir)
    #expect(secret.status == 2)
  }

  @Test func terminalControlFromAHostNeverReachesTheTerminal() throws {
    let ws = try Workspace()
    defer { try? FileManager.default.removeItem(at: ws.dir) }
    try ws.write(
      "r.md",
      "```sh {role=local name=esc}\nprintf 'a\\033]0;pwned\\007b\\033[2Jc\\n'\n```\n")
    let result = try CLI.run(["exec", "r.md", "--report-dir", "run"], in: ws.dir)
    #expect(result.status == 0)
    #expect(!result.stdout.contains("\u{1B}"))
    #expect(result.stdout.contains("abc"))
    let log = ws.steps("run").first?["log"] as? String ?? ""
    #expect(ws.read("run/" + log)?.contains("\u{1B}]0;pwned") == true)
  }

  @Test func verifyCatchesATruncatedJournalAndAnAddedFile() throws {
    let ws = try Workspace()
    defer { try? FileManager.default.removeItem(at: ws.dir) }
    try ws.write(
      "r.md",
      "```sh {role=local name=one}\necho one\n```\n```sh {role=local name=two}\necho two\n```\n")
    #expect(try CLI.run(["exec", "r.md", "--report-dir", "run"], in: ws.dir).status == 0)
    #expect(try CLI.run(["verify", "run"], in: ws.dir).status == 0)
    try ws.write("run/logs/extra.log", "planted")
    let added = try CLI.run(["verify", "run"], in: ws.dir)
    #expect(added.status == 1)
    #expect(added.stdout.contains("logs/extra.log") || added.stderr.contains("logs/extra.log"))
    try FileManager.default.removeItem(at: ws.dir.appendingPathComponent("run/logs/extra.log"))
    // Cut the journal after the first step, as someone hiding the second would.
    let journal = ws.read("run/journal.jsonl") ?? ""
    let lines = journal.split(separator: "\n")
    let cut = lines.prefix { !$0.contains("\"step\":\"two\"") }.filter {
      !$0.contains("\"type\":\"start\"") || $0.contains("\"one\"")
    }
    try (cut.joined(separator: "\n") + "\n").write(
      to: ws.dir.appendingPathComponent("run/journal.jsonl"), atomically: true, encoding: .utf8)
    try? FileManager.default.removeItem(at: ws.dir.appendingPathComponent("run/logs/002-two"))
    let truncated = try CLI.run(["verify", "run"], in: ws.dir)
    #expect(truncated.status == 1)
    #expect((truncated.stdout + truncated.stderr).contains("truncated"), "\(truncated.stdout)")
  }

  @Test func hostNamesThatDifferOnlyInUnsafeCharactersKeepTheirOwnLogs() throws {
    let ws = try Workspace()
    defer { try? FileManager.default.removeItem(at: ws.dir) }
    try ws.write("r.md", "```sh {role=web name=who}\necho {{ host.name }}\n```\n")
    try ws.write("hosts", "[web]\na/b ansible_connection=local\na_b ansible_connection=local\n")
    let result = try CLI.run(["exec", "r.md", "-i", "hosts", "--report-dir", "run"], in: ws.dir)
    #expect(result.status == 0, "\(result.stderr)")
    let logs = ws.steps("run").compactMap { $0["log"] as? String }
    #expect(Set(logs).count == 2)
    #expect(try CLI.run(["verify", "run"], in: ws.dir).status == 0)
  }

  @Test func aDryRunListsEveryMissingSecretAndChecksTheHosts() throws {
    let ws = try Workspace()
    defer { try? FileManager.default.removeItem(at: ws.dir) }
    try ws.write("r.md", "---\nsecrets: [a, b]\n---\n```sh {role=web}\necho {{ a }} {{ b }}\n```\n")
    try ws.write("hosts", "[web]\nw1 ansible_connection=local\n")
    let secrets = try CLI.run(["exec", "r.md", "-i", "hosts", "--dry-run"], in: ws.dir)
    #expect(secrets.status == 2)
    #expect(secrets.stderr.contains("secret 'a'") && secrets.stderr.contains("secret 'b'"))
    // A host that refuses connections (a closed loopback port) fails the dry run's preflight.
    try ws.write("down", "[web]\nw1 ansible_host=127.0.0.1 ansible_port=1\n")
    let down = try CLI.run(
      ["exec", "r.md", "-i", "down", "--dry-run", "--var", "a=1", "--var", "b=2"], in: ws.dir)
    #expect(down.status == 2)
    #expect(down.stderr.contains("does not answer over ssh"), "\(down.stderr)")
  }

  @Test func aUserFromAVariableNeverBecomesASudoOption() throws {
    let ws = try Workspace()
    defer { try? FileManager.default.removeItem(at: ws.dir) }
    try ws.write("r.md", "```sh {role=local name=as user={{ who }}}\ntouch ran\n```\n")
    let result = try CLI.run(
      ["exec", "r.md", "--var", "who=-s", "--report-dir", "run"], in: ws.dir)
    #expect(result.status == 1)
    let step = ws.steps("run").first
    #expect(step?["status"] as? String == "failed")
    #expect((step?["reason"] as? String)?.contains("cannot be passed to sudo") == true)
    #expect(ws.read("ran") == nil)
    try ws.write("s.md", "```sh {role=local user=-s}\ntrue\n```\n")
    let check = try CLI.run(["check", "s.md"], in: ws.dir)
    #expect(check.status == 2)
    #expect(check.stderr.contains("s.md:1: error: user=-s is not a user name"), "\(check.stderr)")
  }

  /// Rewrites a journal line by line with `edit` and recomputes its digest chain, as
  /// someone who knows the format would.
  static func forgeJournal(_ path: String, replacing old: String, with new: String) throws {
    let script = """
      import hashlib, sys
      path, old, new = sys.argv[1:4]
      prev = "0" * 64
      out = []
      for line in open(path, encoding="utf-8").read().splitlines():
          head = line[: line.rindex(',"digest":"') + len(',"digest":"')].replace(old, new)
          prev = hashlib.sha256((prev + "\\n").encode() + head.encode()).hexdigest()
          out.append(head + prev + '"}')
      open(path, "w", encoding="utf-8").write("\\n".join(out) + "\\n")
      """
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", "-c", script, path, old, new]
    try process.run()
    process.waitUntilExit()
    #expect(process.terminationStatus == 0)
  }

  @Test func aSignedRunCannotBeRewrittenEvenWithTheChainRecomputed() throws {
    let ws = try Workspace()
    defer { try? FileManager.default.removeItem(at: ws.dir) }
    try CLI.makeKey(ws.dir.appendingPathComponent("operator"))
    try CLI.makeKey(ws.dir.appendingPathComponent("intruder"))
    let key = (ws.read("operator.pub") ?? "").split(separator: " ").prefix(2).joined(separator: " ")
    try ws.write("allowed", "operator@example namespaces=\"runbook-run\" \(key)\n")
    try ws.write("r.md", "```sh {role=local name=say}\necho the real output\n```\n")
    // Signed as someone the signers file does not list for the key: verify says whom it does.
    let claimed = try CLI.run(
      [
        "exec", "r.md", "--report-dir", "claimed", "--sign-key", "operator", "--signer",
        "eve@example",
      ],
      in: ws.dir)
    #expect(claimed.status == 0, "\(claimed.stderr)")
    let wrong = try CLI.run(["verify", "claimed", "--allowed-signers", "allowed"], in: ws.dir)
    #expect(wrong.status == 1)
    #expect(
      wrong.stderr.contains(
        "is not a valid signature by eve@example (allowed lists its key for operator@example)"),
      "\(wrong.stderr)")
    let run = try CLI.run(
      [
        "exec", "r.md", "--report-dir", "run", "--sign-key", "operator", "--operator",
        "Op <operator@example>",
      ], in: ws.dir)
    #expect(run.status == 0, "\(run.stderr)")
    let good = try CLI.run(["verify", "run", "--allowed-signers", "allowed"], in: ws.dir)
    #expect(good.status == 0, "\(good.stdout)\(good.stderr)")
    #expect(good.stdout.contains("signature valid"))

    // A rewrite with the chain recomputed no longer matches the signed statement, which
    // verify checks even without the signers…
    try FileManager.default.copyItem(
      at: ws.dir.appendingPathComponent("run"), to: ws.dir.appendingPathComponent("forged"))
    try Self.forgeJournal(
      ws.dir.appendingPathComponent("forged/journal.jsonl").path,
      replacing: "the real output", with: "a forged output")
    let noted = try CLI.run(["verify", "forged"], in: ws.dir)
    #expect(noted.status == 1)
    #expect(noted.stderr.contains("signature.txt: does not name this run"), "\(noted.stderr)")
    // …and a one-byte edit of the signature is no longer a signature.
    try FileManager.default.copyItem(
      at: ws.dir.appendingPathComponent("run"), to: ws.dir.appendingPathComponent("flipped"))
    let sig = ws.dir.appendingPathComponent("flipped/signature.txt.sig")
    var bytes = try Data(contentsOf: sig)
    bytes[bytes.count / 2] =
      bytes[bytes.count / 2] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
    try bytes.write(to: sig)
    let flipped = try CLI.run(["verify", "flipped"], in: ws.dir)
    #expect(flipped.status == 1)
    #expect(
      flipped.stderr.contains("signature.txt.sig: is not a valid signature"), "\(flipped.stderr)")
    // Without the statement, the chain alone cannot tell a careful rewrite: only the
    // signers file makes the signature required.
    for name in ["signature.txt", "signature.txt.sig"] {
      try FileManager.default.removeItem(at: ws.dir.appendingPathComponent("forged/" + name))
    }
    #expect(try CLI.run(["verify", "forged"], in: ws.dir).status == 0)
    try FileManager.default.removeItem(at: ws.dir.appendingPathComponent("forged"))
    try FileManager.default.copyItem(
      at: ws.dir.appendingPathComponent("run"), to: ws.dir.appendingPathComponent("forged"))
    try Self.forgeJournal(
      ws.dir.appendingPathComponent("forged/journal.jsonl").path,
      replacing: "the real output", with: "a forged output")
    let forged = try CLI.run(["verify", "forged", "--allowed-signers", "allowed"], in: ws.dir)
    #expect(forged.status == 1)
    #expect(forged.stderr.contains("signs another journal state"), "\(forged.stderr)")

    // Re-signing with a key the auditor does not trust does not help.
    let resigned = try CLI.run(["sign", "forged", "--key", "intruder"], in: ws.dir)
    #expect(resigned.status == 0, "\(resigned.stderr)")
    let intruder = try CLI.run(["verify", "forged", "--allowed-signers", "allowed"], in: ws.dir)
    #expect(intruder.status == 1)
    #expect(intruder.stderr.contains("signature.txt.sig"), "\(intruder.stderr)")

    // An unsigned run fails when a signature is required.
    try ws.write("u.md", "```sh {role=local}\ntrue\n```\n")
    #expect(try CLI.run(["exec", "u.md", "--report-dir", "unsigned"], in: ws.dir).status == 0)
    let unsigned = try CLI.run(["verify", "unsigned", "--allowed-signers", "allowed"], in: ws.dir)
    #expect(unsigned.status == 1)
    #expect(unsigned.stderr.contains("not signed"))
  }
}
