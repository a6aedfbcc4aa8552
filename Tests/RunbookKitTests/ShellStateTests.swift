import Foundation
import Testing

@testable import RunbookKit

/// The session's state as real shells print it, and the restore script as real shells read
/// it: what one shell leaves, a fresh one gets back, byte for byte.
@Suite struct ShellStateTests {
  static let nonce = "RBTEST-0123456789abcdef"

  /// Runs `script` under `shell` in `directory` and returns the states it printed, read
  /// through a collector as a step's output is.
  func states(_ shell: String, _ script: String, in directory: String = "/tmp") throws
    -> (states: [ShellState.Moment: ShellState], output: String)
  {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: shell)
    process.arguments = ["-c", script]
    process.currentDirectoryURL = URL(fileURLWithPath: directory)
    process.environment = ["PATH": "/usr/bin:/bin", "HOME": "/root", "LANG": "C.UTF-8"]
    let pipe = Pipe()
    process.standardOutput = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    let collector = OutputCollector(
      logPath: nil, masker: SecretMasker(values: []), hiddenPrefixes: [], echo: nil,
      stateRegion: ShellState.region(nonce: Self.nonce))
    collector.stdout(Array(data))
    let output = collector.finish().stdout
    return (ShellState.dumps(in: collector.keptState(), nonce: Self.nonce), output)
  }

  static let awkward = [
    "it's \"quoted\" $HOME `x` \\ back", "two\nlines\n", "tab\there", "naïve ☃", " lead and trail ",
    "", "*", "a=b c=d",
  ]

  /// Assignments of the awkward values, as a guide would write them.
  static var assignments: String {
    awkward.enumerated().map { i, value in
      let quoted = "'" + value.replacingOccurrences(of: "'", with: "'\\''") + "'"
      return (i.isMultiple(of: 2) ? "export " : "") + "V\(i)=\(quoted)"
    }.joined(separator: "\n")
  }

  @Test(arguments: ["/bin/bash", "/bin/sh"])
  func valuesComeBackByteForByte(shell: String) throws {
    let script =
      Self.assignments + "\ncd /usr/share\n"
      + ShellState.dumpScript(nonce: Self.nonce, moment: .after)
    let after = try #require(try states(shell, script).states[.after])
    for (i, value) in Self.awkward.enumerated() {
      #expect(after.variables["V\(i)"] == ShellVariable(value, exported: i.isMultiple(of: 2)))
    }
    #expect(after.cwd == "/usr/share")
    // The shell's own variables and the tool's are never part of the state.
    for own in ["PWD", "SHLVL", "PPID", "IFS", "BASH_VERSION", "RANDOM", "_", "OPTIND"] {
      #expect(after.variables[own] == nil, "\(own) is the shell's")
    }
  }

  @Test func bashFunctionsAndArraysAreRead() throws {
    let script = """
      greet() { echo "hi $1"; }
      other () {
        local x=1; for i in 1 2; do echo $i; done
      }
      ARR=(one "two three" $'four\\nfive')
      declare -A MAP=([k]="v w")
      readonly FIXED=1
      """ + "\n" + ShellState.dumpScript(nonce: Self.nonce, moment: .after)
    let after = try #require(try states("/bin/bash", script).states[.after])
    #expect(after.functions.keys.sorted() == ["greet", "other"])
    #expect(after.functions["greet"]?.hasPrefix("greet () \n{") == true)
    #expect(after.variables["ARR"]?.value == "one")
    #expect(after.variables["ARR"]?.declaration?.hasPrefix("declare -a ARR=(") == true)
    #expect(after.variables["MAP"]?.declaration?.hasPrefix("declare -A MAP=(") == true)
    // A read-only variable cannot be set again by a later step's shell.
    #expect(after.variables["FIXED"] == nil)
  }

  /// What one shell leaves, set up by the restore script in a fresh shell, is what the
  /// fresh shell then prints.
  @Test(arguments: ["/bin/bash", "/bin/sh"])
  func restoreScriptRebuildsTheState(shell: String) throws {
    let bash = shell == "/bin/bash"
    let setup =
      Self.assignments + "\nunset HOME\ncd /usr/share\n"
      + (bash ? "f() { printf '%s\\n' \"$1 it's\"; }\nARR=(a 'b c')\n" : "")
    let before = ShellState.dumpScript(nonce: Self.nonce, moment: .before)
    let after = ShellState.dumpScript(nonce: Self.nonce, moment: .after)
    let first = try states(shell, before + setup + after).states
    let base = try #require(first[.before])
    let left = try #require(first[.after])
    let change = ShellStateChange.between(base, left)
    #expect(change.unset == ["HOME"])
    #expect(change.cwd == "/usr/share")

    let second = try states(shell, change.restoreScript() + (bash ? "f x\n" : "") + after)
    let rebuilt = try #require(second.states[.after])
    #expect(rebuilt.variables == left.variables)
    #expect(rebuilt.functions == left.functions)
    #expect(rebuilt.cwd == "/usr/share")
    if bash { #expect(second.output == "x it's\n") }
  }

  @Test func aPOSIXShellKeepsBashStateItCannotSee() throws {
    var bash = ShellState(cwd: "/a")
    bash.functions["f"] = "f () \n{ \n    :\n}\n"
    bash.variables["ARR"] = ShellVariable("x", declaration: "declare -a ARR=([0]=\"x\")")
    bash.variables["A"] = ShellVariable("1")
    var sh = ShellState(cwd: "/a", variables: ["A": ShellVariable("2")])
    sh.seesBashState = false
    let kept = sh.keepingUnseen(from: bash)
    let change = ShellStateChange.between(bash, kept)
    #expect(change == ShellStateChange(set: ["A": ShellVariable("2")]))
  }

  @Test func changesCompose() {
    let first = ShellStateChange(
      cwd: "/a", set: ["X": ShellVariable("1"), "Y": ShellVariable("2")], unset: ["Z"],
      functions: ["f": "f"])
    let second = ShellStateChange(
      set: ["Z": ShellVariable("3")], unset: ["X"], removedFunctions: ["f"])
    let both = first.then(second)
    #expect(both.cwd == "/a")
    #expect(both.set == ["Y": ShellVariable("2"), "Z": ShellVariable("3")])
    #expect(both.unset == ["X"])
    #expect(both.functions.isEmpty && both.removedFunctions == ["f"])
    let base = ShellState(cwd: "/", variables: ["X": ShellVariable("0"), "Z": ShellVariable("0")])
    #expect(base.applying(first).applying(second) == base.applying(both))
  }

  /// The status the host records is the step's own: printing the state neither hides a
  /// failure nor turns a finished step into one when no one reads it any more.
  @Test(arguments: ["/bin/bash", "/bin/sh"])
  func printingTheStateKeepsTheStepsStatus(shell: String) throws {
    func status(_ body: String, readerGone: Bool) throws -> Int32 {
      let process = Process()
      process.executableURL = URL(fileURLWithPath: shell)
      process.arguments = [
        "-c", "set -e\n{\n\(body)\n}\n" + ShellState.dumpScript(nonce: Self.nonce, moment: .after),
      ]
      let pipe = Pipe()
      process.standardOutput = pipe
      if readerGone { try pipe.fileHandleForReading.close() }
      try process.run()
      if !readerGone { _ = pipe.fileHandleForReading.readDataToEndOfFile() }
      process.waitUntilExit()
      return process.terminationStatus
    }
    #expect(try status("true", readerGone: true) == 0)
    #expect(try status("test -e /nonexistent && echo yes", readerGone: false) == 1)
    #expect(try status("exit 3", readerGone: false) == 3)
  }

  @Test func aStateCutShortIsNotRead() {
    let text = "\(Self.nonce) state after\nbash\ndeclare -x A=\"1\"\n"
    #expect(ShellState.dumps(in: text, nonce: Self.nonce).isEmpty)
  }

  @Test func theStateNeverReachesTheOutput() throws {
    let script =
      "printf 'no newline'\n" + ShellState.dumpScript(nonce: Self.nonce, moment: .before)
      + "echo after\n"
    let (states, output) = try states("/bin/sh", "SECRETISH=hidden-value\n" + script)
    #expect(output == "no newlineafter\n")
    #expect(states[.before]?.variables["SECRETISH"]?.value == "hidden-value")
  }
}

/// What the journal keeps of a session: secrets masked and sealed, and opened again only
/// with the run's key.
@Suite struct SessionRecordTests {
  let key = RunKey(bytes: Array(repeating: 7, count: 32))

  @Test func secretsAreMaskedAndSealedAndComeBackWithTheKey() throws {
    let change = ShellStateChange(
      cwd: "/srv/app",
      set: [
        "DB_PASSWORD": ShellVariable("generated-42", exported: true),
        "URL": ShellVariable("mysql://nova:hunter2-long@db/nova"),
        "PLAIN": ShellVariable("visible"),
      ], unset: ["OLD"], functions: ["f": "f () \n{ \n    echo hunter2-long\n}\n"])
    let masker = SecretMasker(values: ["hunter2-long"])
    let record = SessionRecord(
      change, from: ShellState(variables: ["URL": ShellVariable("")]), user: nil, masker: masker,
      key: key, secret: Planner.looksSecret)
    let json = String(decoding: try JSONEncoder().encode(record), as: UTF8.self)
    #expect(!json.contains("hunter2-long") && !json.contains("generated-42"))
    #expect(json.contains("visible"))
    #expect(record.set?["URL"]?.text == "mysql://nova:********@db/nova")
    #expect(record.summary == ["cwd → /srv/app", "+DB_PASSWORD", "+PLAIN", "~URL", "-OLD", "+f()"])

    let opened = record.change(key: key)
    #expect(opened.lost.isEmpty)
    #expect(opened.change == change)

    let other = record.change(key: RunKey(bytes: Array(repeating: 8, count: 32)))
    #expect(other.lost == ["DB_PASSWORD", "URL", "f()"])
    #expect(other.change.set["PLAIN"] == ShellVariable("visible"))
  }

  /// The line reaches the operator's terminal: a directory the host named with escape
  /// sequences shows them instead of sending them; become's session is root's.
  @Test func theLineIsSafeForATerminalAndNamesRoot() {
    let record = SessionRecord(
      ShellStateChange(cwd: "/tmp/\u{1B}]0;owned\u{07}x"), from: nil, user: "-",
      masker: SecretMasker(values: []), key: key, secret: Planner.looksSecret)
    #expect(record.line == "session of root: cwd → /tmp/\\u{1B}]0;owned\\u{7}x")
    #expect(!record.line.unicodeScalars.contains { $0.properties.generalCategory == .control })
  }
}
