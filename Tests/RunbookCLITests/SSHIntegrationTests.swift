import Foundation
import RunbookTestSupport
import Testing

/// `runbook exec` against real sshd instances on loopback addresses.
@Suite(
  .serialized,
  .enabled(if: TestEnvironment.hasSSHD, "needs sshd: Scripts/setup --tests installs openssh-server")
)
struct SSHIntegrationTests {
  static let groups = ["ctl": "controller", "cmp": "compute", "lb1": "lb", "lb2": "lb", "db": "db"]

  struct Workspace {
    let dir: URL
    init() throws {
      dir = FileManager.default.temporaryDirectory.appendingPathComponent(
        "runbook-e2e-\(UUID().uuidString.prefix(8))")
      try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }
    func write(_ name: String, _ text: String) throws {
      try text.write(to: dir.appendingPathComponent(name), atomically: true, encoding: .utf8)
    }
    func read(_ name: String) -> String? {
      try? String(contentsOf: dir.appendingPathComponent(name), encoding: .utf8)
    }
    func journal(_ run: String) -> [[String: Any]] {
      (read("\(run)/journal.jsonl") ?? "").split(separator: "\n").compactMap {
        try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
      }
    }
    func steps(_ run: String) -> [[String: Any]] {
      journal(run).filter { $0["type"] as? String == "step" }
    }
    /// Waits for a step to write the file `name`.
    func waitFor(_ name: String) {
      #expect(eventually { read(name) != nil }, "no step wrote \(name)")
    }
    /// Whether the process whose pid a step wrote to `name` has ended (or is a zombie).
    func processEnded(pidFile name: String) -> Bool {
      let pid = Int32(read(name)?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? 0
      let state = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8))?
        .split(separator: ")").last?.split(separator: " ").first
      return pid > 0 && (state == nil || state == "Z")
    }
  }

  static let runbook = """
    ---
    title: Four roles over ssh
    vars:
      region: RegionOne
    roles:
      controller: API services
      compute: Hypervisors
      lb: Load balancers
      db: Database
    ---
    # Every host

    ```sh {role=controller,compute,lb,db name=whoami}
    mkdir -p {{ dir }}/{{ host.name }}
    echo "$SSH_CONNECTION" | cut -d' ' -f3 > {{ dir }}/{{ host.name }}/server
    ```

    # Database

    ```ini {role=db name=mycnf file={{ dir }}/db/openstack.cnf section=mysqld create}
    bind-address = {{ host.address }}
    max_connections = 4096
    ```

    # Controller

    ```sh {role=controller name=token capture=admin_token}
    echo "tok-$(hostname)-{{ region }}"
    ```

    # Compute

    ```sh {role=compute name=use-token}
    echo "{{ admin_token }}" > {{ dir }}/cmp/token
    ```

    # Load balancers

    ```console {role=lb name=lb-check}
    $ cat {{ dir }}/{{ host.name }}/server
    {{ host.address }}
    ```

    ```sh {role=lb name=one-by-one serial}
    date +%s%N > {{ dir }}/{{ host.name }}/serial
    sleep 0.2
    ```
    """

  @Test func runsEachRoleOnItsHostsOverSSH() throws {
    let hosts = try SSHHosts(["ctl", "cmp", "lb1", "lb2", "db"], base: 23100)
    defer { hosts.tearDown() }
    let ws = try Workspace()
    defer { try? FileManager.default.removeItem(at: ws.dir) }
    try ws.write("runbook.md", Self.runbook)
    try ws.write("hosts", hosts.inventory(groups: Self.groups))

    let result = try CLI.run(
      [
        "exec", "runbook.md", "-i", "hosts", "--var", "dir=\(ws.dir.path)", "--ssh-config",
        hosts.sshConfig,
        "--report-dir", "run",
      ], in: ws.dir)
    #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
    for host in hosts.hosts {
      #expect(
        ws.read("\(host.name)/server") == host.address + "\n", "\(host.name) ran over its own sshd")
    }
    #expect(
      ws.read("db/openstack.cnf") == "[mysqld]\nbind-address = 127.0.0.25\nmax_connections = 4096\n"
    )
    #expect(ws.read("cmp/token")?.hasPrefix("tok-") == true)
    #expect(ws.read("cmp/token")?.hasSuffix("-RegionOne\n") == true)
    let serial = ["lb1", "lb2"].compactMap {
      ws.read("\($0)/serial").flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }
    #expect(serial.count == 2)
    if serial.count == 2 {
      #expect(abs(serial[1] - serial[0]) >= 150_000_000, "serial steps do not overlap")
    }

    let steps = ws.steps("run")
    #expect(steps.count == 12)
    #expect(steps.allSatisfy { $0["status"] as? String == "ok" })
    #expect(
      result.stdout.contains("[lb1] "), "output of a multi-host step is prefixed with the host")

    // A second run changes no file.
    let again = try CLI.run(
      [
        "exec", "runbook.md", "-i", "hosts", "--var", "dir=\(ws.dir.path)", "--ssh-config",
        hosts.sshConfig,
        "--report-dir", "run2",
      ], in: ws.dir)
    #expect(again.status == 0)
    #expect(
      ws.steps("run2").first { $0["step"] as? String == "mycnf" }?["changed"] as? Bool == false)
  }

  /// Over ssh a step's script is a counted message: its length is in bytes, so text in any
  /// script (multibyte UTF-8, a long script, a line that looks like a marker) reaches the
  /// host whole, and the next step's message is read from where this one ends.
  @Test func scriptsOfAnyTextReachTheHostWhole() throws {
    let hosts = try SSHHosts(["one"], base: 23980)
    defer { hosts.tearDown() }
    let ws = try Workspace()
    defer { try? FileManager.default.removeItem(at: ws.dir) }
    let text = String(repeating: "héllo wörld ✓ 中文 ", count: 400)
    try ws.write(
      "runbook.md",
      """
      ```sh {role=box name=long}
      cat > {{ dir }}/long.txt <<'EOF'
      \(text)
      RUNBOOK-END-x
      EOF
      ```

      ```sh {role=box name=next}
      printf 'naïve\\n' > {{ dir }}/next.txt
      ```
      """)
    try ws.write("hosts", hosts.inventory(groups: ["one": "box"]))
    let result = try CLI.run(
      [
        "exec", "runbook.md", "-i", "hosts", "--var", "dir=\(ws.dir.path)", "--ssh-config",
        hosts.sshConfig, "--report-dir", "run",
      ], in: ws.dir)
    #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
    // Compared as a flag: a failure would otherwise print the whole text twice.
    let arrived = ws.read("long.txt")
    #expect(arrived?.utf8.count == text.utf8.count + 15)
    #expect(arrived == text + "\nRUNBOOK-END-x\n" ? true : false, "the long script arrived whole")
    #expect(ws.read("next.txt") == "naïve\n")
  }

  /// Two inventory names for one machine share the ssh master that the preflight started
  /// (one, never two racing for a socket), and the run leaves no ssh process behind.
  @Test func twoNamesForOneMachineShareOneMasterAndNothingIsLeftRunning() throws {
    let hosts = try SSHHosts(["m"], base: 23900)
    defer { hosts.tearDown() }
    let m = hosts.hosts[0]
    let ws = try Workspace()
    defer { try? FileManager.default.removeItem(at: ws.dir) }
    try ws.write(
      "hosts",
      """
      [web]
      front ansible_host=\(m.address) ansible_port=\(m.port)
      [app]
      back ansible_host=\(m.address) ansible_port=\(m.port)
      """)
    // The master's command line ends with `-N -f -T -- ADDRESS`; `[-]` keeps pgrep from
    // finding the step's own shell.
    try ws.write(
      "runbook.md",
      """
      ```sh {role=web,app name=masters}
      pgrep -f -- "[-]p \(m.port) .*-N -f -T -- \(m.address)" | wc -l > {{ dir }}/{{ host.name }}.masters
      ```

      ```sh {role=web,app name=again}
      echo {{ host.name }} > {{ dir }}/{{ host.name }}.again
      ```
      """)
    let result = try CLI.run(
      [
        "exec", "runbook.md", "-i", "hosts", "--var", "dir=\(ws.dir.path)", "--ssh-config",
        hosts.sshConfig, "--report-dir", "run",
      ], in: ws.dir)
    #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
    #expect(ws.read("front.masters") == "1\n")
    #expect(ws.read("back.masters") == "1\n")
    #expect(ws.read("front.again") == "front\n" && ws.read("back.again") == "back\n")
    let left = Self.sshClients(port: m.port)
    #expect(left.isEmpty, "ssh processes left after the run: \(left)")
  }

  /// The ssh client processes (not sshd) whose command line names `port`.
  static func sshClients(port: Int) -> [String] {
    let all = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    return all.compactMap(Int32.init).compactMap { pid -> String? in
      guard let raw = try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/cmdline")) else {
        return nil
      }
      let words = raw.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
      guard words.first == "ssh", words.contains(String(port)) else { return nil }
      return words.joined(separator: " ")
    }
  }

  @Test func aHostDownAtPreflightStopsEverythingBeforeItRuns() throws {
    let hosts = try SSHHosts(["ctl", "cmp"], base: 23200)
    defer { hosts.tearDown() }
    let ws = try Workspace()
    defer { try? FileManager.default.removeItem(at: ws.dir) }
    try ws.write(
      "runbook.md", "```sh {role=controller,compute}\ntouch {{ dir }}/ran-{{ host.name }}\n```\n")
    try ws.write("hosts", hosts.inventory(groups: ["ctl": "controller", "cmp": "compute"]))
    try hosts.stop("cmp")
    let result = try CLI.run(
      [
        "exec", "runbook.md", "-i", "hosts", "--var", "dir=\(ws.dir.path)", "--ssh-config",
        hosts.sshConfig,
        "--report-dir", "run",
      ], in: ws.dir)
    #expect(result.status == 2)
    #expect(
      result.stderr.contains(
        "hosts:2: error: host 'cmp' (127.0.0.22:23201) does not answer over ssh"))
    #expect(ws.read("ran-ctl") == nil)
    #expect(!FileManager.default.fileExists(atPath: ws.dir.appendingPathComponent("run").path))
  }

  @Test func sshdKilledMidStepFailsThatHostAndResumeFinishes() throws {
    let hosts = try SSHHosts(["ctl", "cmp"], base: 23300)
    defer { hosts.tearDown() }
    let ws = try Workspace()
    defer { try? FileManager.default.removeItem(at: ws.dir) }
    try ws.write(
      "runbook.md",
      """
      ```sh {role=controller,compute name=slow}
      touch {{ dir }}/began-{{ host.name }}
      sleep 3
      echo ok >> {{ dir }}/slow-{{ host.name }}
      ```
      ```sh {role=controller,compute name=after}
      touch {{ dir }}/after-{{ host.name }}
      ```
      """)
    try ws.write("hosts", hosts.inventory(groups: ["ctl": "controller", "cmp": "compute"]))
    let args = [
      "exec", "runbook.md", "-i", "hosts", "--var", "dir=\(ws.dir.path)", "--ssh-config",
      hosts.sshConfig, "--report-dir", "run",
    ]
    let process = try CLI.start(args, in: ws.dir)
    // Once the step runs on the host (not after a guessed time, which a loaded machine
    // overruns), its connection is lost.
    ws.waitFor("began-cmp")
    try hosts.stop("cmp")
    let result = CLI.finish(process)
    #expect(result.status == 1)
    let steps = ws.steps("run")
    let slow = steps.filter { $0["step"] as? String == "slow" }
    #expect(slow.first { $0["host"] as? String == "ctl" }?["status"] as? String == "ok")
    // The host cannot be asked while its sshd is down: whether the step finished is unknown.
    #expect(slow.first { $0["host"] as? String == "cmp" }?["status"] as? String == "unknown")
    #expect(!steps.contains { $0["step"] as? String == "after" })
    #expect(
      ws.journal("run").last { $0["type"] as? String == "end" }?["status"] as? String == "failed")

    try hosts.start("cmp")
    let resumed = try CLI.run(
      [
        "exec", "runbook.md", "-i", "hosts", "--var", "dir=\(ws.dir.path)", "--ssh-config",
        hosts.sshConfig, "--resume", "run",
      ],
      in: ws.dir)
    #expect(resumed.status == 0, "\(resumed.stdout)\n\(resumed.stderr)")
    #expect(ws.read("slow-cmp") == "ok\n")
    #expect(ws.read("after-ctl") != nil && ws.read("after-cmp") != nil)
    let resumedSlow = ws.steps("run").filter {
      $0["step"] as? String == "slow" && $0["host"] as? String == "ctl"
    }
    #expect(resumedSlow.map { $0["status"] as? String } == ["ok", "skipped"])
    // The step went on on the host after the connection was lost; the resume asked the
    // host, learnt it finished, and did not run it a second time.
    let lostSlow = ws.steps("run").filter {
      $0["step"] as? String == "slow" && $0["host"] as? String == "cmp"
    }
    #expect(lostSlow.map { $0["status"] as? String } == ["unknown", "ok"])
    #expect((lostSlow.last?["reason"] as? String)?.contains("finished on the host") == true)
  }

  @Test func aTimeoutStopsTheRemoteStepAndTheNextStepRunsOnTheSameHost() throws {
    let hosts = try SSHHosts(["ctl"], base: 23500)
    defer { hosts.tearDown() }
    let ws = try Workspace()
    defer { try? FileManager.default.removeItem(at: ws.dir) }
    try ws.write(
      "runbook.md",
      """
      ```sh {role=controller name=hang timeout=1s allow-fail}
      sleep 60 &
      echo $! > {{ dir }}/hang.pid
      wait
      ```
      ```sh {role=controller name=next}
      cat > {{ dir }}/stdin.txt
      printf 'no newline at the end'
      ```
      """)
    try ws.write("hosts", hosts.inventory(groups: ["ctl": "controller"]))
    let start = Date()
    let result = try CLI.run(
      [
        "exec", "runbook.md", "-i", "hosts", "--var", "dir=\(ws.dir.path)", "--ssh-config",
        hosts.sshConfig, "--report-dir", "run",
      ],
      in: ws.dir)
    #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
    #expect(Date().timeIntervalSince(start) < 15)
    let steps = ws.steps("run")
    #expect(steps.map { $0["status"] as? String } == ["timeout", "ok"])
    #expect(ws.read("stdin.txt") == "", "a step's standard input is empty, not the session's")
    #expect(steps.last?["outputTail"] as? String == "no newline at the end\n")
    #expect(ws.processEnded(pidFile: "hang.pid"), "the timed-out step's children were stopped")
  }

  @Test func interruptStopsTheRemoteCommandAndExits130() throws {
    let hosts = try SSHHosts(["ctl"], base: 23400)
    defer { hosts.tearDown() }
    let ws = try Workspace()
    defer { try? FileManager.default.removeItem(at: ws.dir) }
    try ws.write(
      "runbook.md",
      """
      ```sh {role=controller name=long}
      sleep 120 &
      echo $! > {{ dir }}/remote.pid
      wait
      ```
      """)
    try ws.write("hosts", hosts.inventory(groups: ["ctl": "controller"]))
    let process = try CLI.start(
      [
        "exec", "runbook.md", "-i", "hosts", "--var", "dir=\(ws.dir.path)", "--ssh-config",
        hosts.sshConfig, "--report-dir", "run",
      ],
      in: ws.dir)
    ws.waitFor("remote.pid")
    let start = Date()
    kill(process.process.processIdentifier, SIGINT)
    let result = CLI.finish(process)
    #expect(result.status == 130)
    #expect(Date().timeIntervalSince(start) < 10)
    let steps = ws.steps("run")
    #expect(steps.first?["status"] as? String == "interrupted")
    #expect(
      ws.journal("run").last { $0["type"] as? String == "end" }?["status"] as? String
        == "interrupted")
    #expect(
      eventually { ws.processEnded(pidFile: "remote.pid") },
      "the remote sleep was stopped, not only the local ssh")
  }

  /// The processes whose memory `user` can read (/proc/PID/mem, as a step of that user
  /// could) and that hold `needle`, as `pid command`: the search runs as that user.
  static func processesHolding(_ needle: String, user: String) throws -> [String] {
    let scan = """
      import os, sys
      needle = sys.argv[1].encode()
      for pid in filter(str.isdigit, os.listdir("/proc")):
          if int(pid) == os.getpid():
              continue
          try:
              maps = open(f"/proc/{pid}/maps").read().splitlines()
              mem = open(f"/proc/{pid}/mem", "rb", 0)
          except OSError:
              continue
          for line in maps:
              fields = line.split()
              if len(fields) < 2 or not fields[1].startswith("r") or line.endswith(("[vvar]", "[vsyscall]")):
                  continue
              start, end = (int(x, 16) for x in fields[0].split("-"))
              try:
                  mem.seek(start)
                  if needle in mem.read(end - start):
                      print(pid, open(f"/proc/{pid}/comm").read().strip())
                      break
              except (OSError, OverflowError, ValueError):
                  continue
      """
    let (status, printed) = try CLI.program(
      "/usr/sbin/runuser", ["-u", user, "--", "/usr/bin/python3", "-c", scan, needle])
    guard status == 0 else { return ["(the search failed: \(printed))"] }
    return printed.split(separator: "\n").map(String.init)
  }

  /// The password `Scripts/setup --tests` gives the user `runbook-sudo`.
  static let sudoPassword = #"it's a "test" $pw\;@/"#

  /// `runbook-sudo` exists (made by `Scripts/setup --tests` as root) and sudo is installed.
  static var sudoUserExists: Bool {
    getpwnam("runbook-sudo") != nil && FileManager.default.isExecutableFile(atPath: "/usr/bin/sudo")
  }

  @Test(
    .enabled(if: sudoUserExists, "needs the user runbook-sudo and sudo: run Scripts/setup --tests")
  )
  func aBecomePasswordReachesSudoOnStandardInputOnly() throws {
    let hosts = try SSHHosts(["ctl"], base: 23800)
    defer { hosts.tearDown() }
    let ws = try Workspace()
    defer { try? FileManager.default.removeItem(at: ws.dir) }
    try ws.write(
      "runbook.md",
      """
      ```sh {role=controller name=plain}
      id -un
      ```
      ```sh {role=controller name=as-root become}
      id -un
      touch {{ dir }}/root-ran
      ```
      ```sh {role=controller name=as-nobody user=nobody}
      id -un
      ```
      ```sh {role=controller name=hang become timeout=2s allow-fail}
      sleep 60 &
      echo $! > {{ dir }}/hang.pid
      wait
      ```
      """)
    let host = hosts.hosts[0]
    let quoted = "'" + Self.sudoPassword.replacingOccurrences(of: "'", with: "''") + "'"
    try ws.write(
      "hosts.yml",
      """
      all:
        children:
          controller:
            hosts:
              ctl:
                ansible_host: \(host.address)
                ansible_port: \(host.port)
                ansible_user: runbook-sudo
                ansible_become_password: \(quoted)

      """)
    let process = try CLI.start(
      [
        "exec", "runbook.md", "-i", "hosts.yml", "--var", "dir=\(ws.dir.path)", "--ssh-config",
        hosts.sshConfig, "--report-dir", "run",
      ],
      in: ws.dir)
    ws.waitFor("hang.pid")
    // While a step runs through sudo, no process has the password among its arguments.
    var seen: [String] = []
    for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    where Int(entry) != nil {
      guard let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline") else {
        continue
      }
      let arguments = String(decoding: data, as: UTF8.self)
      if arguments.contains("$pw\\;@/") { seen.append(arguments) }
    }
    #expect(seen.isEmpty, "the password is in argv: \(seen)")
    // Nor in the memory of any process of the session's user (what a step of that user can
    // read through /proc/PID/mem): the loop hands it from its input to sudo with dd.
    let holders = try Self.processesHolding("$pw\\;@/", user: "runbook-sudo")
    #expect(holders.isEmpty, "the password is in the memory of: \(holders)")
    let result = CLI.finish(process)
    #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
    let steps = ws.steps("run")
    #expect(
      steps.map { $0["status"] as? String } == ["ok", "ok", "ok", "timeout"], "\(result.stdout)")
    // The password line went to sudo where it asks (root), and not where it does not
    // (nobody): had the shell of the step read it, that step would have failed.
    #expect(
      steps.prefix(3).map {
        ($0["outputTail"] as? String)?.trimmingCharacters(in: .whitespacesAndNewlines)
      }
        == ["runbook-sudo", "root", "nobody"])
    var rootRan = stat()
    #expect(
      stat(ws.dir.appendingPathComponent("root-ran").path, &rootRan) == 0 && rootRan.st_uid == 0)
    // The timed-out step was stopped through sudo, with the password.
    #expect(ws.processEnded(pidFile: "hang.pid"), "the root step's sleep was stopped")
    // The password is nowhere: not printed, not in any file of the run directory.
    #expect(!result.stdout.contains("$pw") && !result.stderr.contains("$pw"))
    let files = FileManager.default.enumerator(atPath: ws.dir.appendingPathComponent("run").path)
    while let file = files?.nextObject() as? String {
      let text = ws.read("run/" + file) ?? ""
      #expect(!text.contains("$pw\\;@/"), "\(file) holds the password")
    }

    // A wrong password (here from --become-password-file) stops the run before any step.
    try ws.write(
      "hosts.ini",
      "[controller]\nctl ansible_host=\(host.address) ansible_port=\(host.port) ansible_user=runbook-sudo\n"
    )
    try ws.write("wrong", "not the password\n")
    try? FileManager.default.removeItem(at: ws.dir.appendingPathComponent("root-ran"))
    let wrong = try CLI.run(
      [
        "exec", "runbook.md", "-i", "hosts.ini", "--become-password-file", "wrong", "--var",
        "dir=\(ws.dir.path)", "--ssh-config", hosts.sshConfig, "--report-dir", "run2",
      ],
      in: ws.dir)
    #expect(wrong.status == 2)
    #expect(
      wrong.stderr.contains(
        "hosts.ini:2: error: host 'ctl' cannot run steps as root, nobody (step as-root, line 4, and any later): sudo -u root refused the become password"
      ), "\(wrong.stderr)")
    #expect(ws.read("root-ran") == nil)
  }
}
