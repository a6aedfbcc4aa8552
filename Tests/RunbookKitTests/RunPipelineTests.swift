import Foundation
import RunbookTestSupport
import Testing

@testable import RunbookKit

/// The whole of `runbook exec` in-process: the pipeline from a request to its summary, with
/// scripted hosts, a clock without waits and a signal stream the test feeds.
@Suite struct RunPipelineTests {
  /// A runbook and an inventory in a directory of their own, and what the run said.
  final class Bench: @unchecked Sendable {
    // Safe: `said` and `shown` are touched only under `lock` (the run writes from its tasks).
    private let lock = NSLock()
    let dir: URL
    let hosts = ScriptedHosts()
    let clock = RecordingClock()
    let (signals, signal) = AsyncStream<Int32>.makeStream()
    private var said = ""
    private var shown: [Diagnostic] = []

    init(_ markdown: String) throws {
      dir = FileManager.default.temporaryDirectory.appendingPathComponent(
        "runbook-pipeline-\(UUID().uuidString.prefix(8))")
      try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
      try markdown.write(to: dir.appendingPathComponent("r.md"), atomically: true, encoding: .utf8)
      try "[web]\nw1 ansible_host=192.0.2.1\nw2 ansible_host=192.0.2.2\n".write(
        to: dir.appendingPathComponent("hosts"), atomically: true, encoding: .utf8)
    }

    func request(_ runDirectory: String = "run") -> RunRequest {
      var request = RunRequest(
        preflight: Preflight(
          runbookPath: dir.appendingPathComponent("r.md").path,
          inventoryPath: dir.appendingPathComponent("hosts").path))
      request.reportDirectory = path(runDirectory)
      return request
    }

    var environment: RunEnvironment {
      let signals = signals
      var environment = RunEnvironment(
        variables: ["USER": "tester"],
        write: { text in self.lock.withLock { self.said += text } },
        warn: { line in self.lock.withLock { self.said += line + "\n" } },
        diagnose: { list in self.lock.withLock { self.shown += list } },
        signals: { signals })
      environment.runner = NoProcesses()
      environment.makeTransport = hosts.maker
      environment.clock = clock
      return environment
    }

    var output: String { lock.withLock { said } }
    var diagnostics: [Diagnostic] { lock.withLock { shown } }
    func path(_ name: String) -> String { dir.appendingPathComponent(name).path }
    func journal(_ run: String = "run") -> Journal.Contents? {
      try? Journal.readAll(path: path(run + "/journal.jsonl"))
    }
    func started(_ run: String = "run") -> Bool {
      ((try? String(contentsOfFile: path(run + "/journal.jsonl"), encoding: .utf8)) ?? "")
        .contains("\"type\":\"start\"")
    }
    func cleanUp() { try? FileManager.default.removeItem(at: dir) }
  }

  static let hanging = """
    ```sh {role=web name=first}
    true
    ```

    ```sh {role=web name=waits}
    sleep 600
    ```

    ```sh {role=web name=never}
    true
    ```
    """

  @Test(arguments: [SIGINT, SIGTERM])
  func aSignalStopsTheRunningStepsAndTheReportsAreStillWritten(_ number: Int32) async throws {
    let bench = try Bench(Self.hanging)
    defer { bench.cleanUp() }
    bench.hosts.script("waits", on: "w1", .hang)
    bench.hosts.script("waits", on: "w2", .hang)
    let pipeline = RunPipeline(request: bench.request(), environment: bench.environment)
    let run = Task { try await pipeline.run() }
    #expect(
      await eventually { bench.started() && bench.hosts.runCount("waits", on: "w2") == 1 },
      "\(bench.output) \(bench.hosts.runs)")
    bench.signal.yield(number)
    let summary = try await run.value
    #expect(summary.status == .interrupted)
    #expect(summary.exitStatus == 130)
    #expect(bench.output.contains("interrupted: stopping the running commands"))
    #expect(bench.output.contains("run interrupted"))
    // It says how to go on from where it stopped.
    #expect(
      bench.output.contains(
        "to continue: runbook exec \(bench.dir.appendingPathComponent("r.md").path) -i \(bench.dir.appendingPathComponent("hosts").path) --resume \(summary.runDirectory)"
      ), "\(bench.output)")
    #expect(bench.hosts.runCount("never", on: "w1") == 0)
    let records = try #require(bench.journal()).steps
    #expect(
      records.map { "\($0.step)@\($0.host)=\($0.status.rawValue)" }.sorted() == [
        "first@w1=ok", "first@w2=ok", "waits@w1=interrupted", "waits@w2=interrupted",
      ])
    #expect(FileManager.default.fileExists(atPath: bench.path("run/report.md")))
    #expect(FileManager.default.fileExists(atPath: bench.path("run/report.html")))
  }

  @Test func aSecondRunOnTheSameDirectoryIsRefusedWhileTheFirstHoldsIt() async throws {
    let bench = try Bench(Self.hanging)
    defer { bench.cleanUp() }
    bench.hosts.script("waits", on: "w1", .hang)
    let first = RunPipeline(request: bench.request(), environment: bench.environment)
    let run = Task { try await first.run() }
    #expect(await eventually { bench.started() })
    let second = RunPipeline(request: bench.request(), environment: bench.environment)
    await #expect(throws: RunPipelineError.invalidInput) { try await second.run() }
    #expect(
      bench.diagnostics.contains { $0.message.contains("in use by another runbook process") },
      "\(bench.diagnostics)")
    var resuming = bench.request()
    resuming.resumeDirectory = bench.path("run")
    let resume = RunPipeline(request: resuming, environment: bench.environment)
    await #expect(throws: RunPipelineError.invalidInput) { try await resume.run() }
    bench.signal.yield(SIGINT)
    #expect(try await run.value.status == .interrupted)
    #expect(bench.hosts.runCount("first", on: "w1") == 1, "the refused runs ran nothing")
  }

  @Test func wrongInputIsShownAllAtOnceAndNothingRuns() async throws {
    let bench = try Bench(
      "```sh {role=db}\ntrue\n```\n\n```sh {role=web}\necho {{ nowhere }}\n```\n")
    defer { bench.cleanUp() }
    let pipeline = RunPipeline(request: bench.request(), environment: bench.environment)
    await #expect(throws: RunPipelineError.invalidInput) { try await pipeline.run() }
    let messages = bench.diagnostics.filter { $0.severity == .error }.map(\.message)
    #expect(messages.count == 2, "\(messages)")
    #expect(bench.hosts.runs.isEmpty)
    #expect(!FileManager.default.fileExists(atPath: bench.path("run")))
  }

  @Test func aMissingSecretIsAskedForAndAnUnknownStepIsAnError() async throws {
    let bench = try Bench(
      """
      ---
      secrets: [token]
      ---

      ```sh {role=web name=uses}
      test -n {{ token | quote }}
      ```
      """)
    defer { bench.cleanUp() }
    var environment = bench.environment
    environment.ask = { question, secret in
      question.contains("token") && secret ? "s3cret" : nil
    }
    let summary = try await RunPipeline(request: bench.request(), environment: environment).run()
    #expect(summary.status == .passed)
    #expect(!bench.output.contains("s3cret"))

    var selecting = bench.request("other")
    selecting.selection.from = "nosuchstep"
    await #expect(throws: RunPipelineError.invalidInput) {
      try await RunPipeline(request: selecting, environment: environment).run()
    }
    #expect(bench.diagnostics.contains { $0.message.contains("nosuchstep") })
  }
}

@Suite struct OperatorIdentityTests {
  let gitFiles = [
    "/home/ada/.config/git/config": "[user]\n\tname = Ada Lovelace\n",
    "/home/ada/.gitconfig": "[core]\n  editor = vi\n[user]\n  email = \"ada@example.org\"\n",
  ]

  @Test func theGivenNameComesFirstThenTheEnvironmentThenGitThenTheLogin() {
    let environment = ["HOME": "/home/ada", "USER": "root", "RUNBOOK_OPERATOR": "Grace Hopper"]
    let read = { (path: String) in gitFiles[path] }
    #expect(
      OperatorIdentity.resolve(given: "Alan Turing", environment: environment, readFile: read)
        == "Alan Turing")
    #expect(
      OperatorIdentity.resolve(given: nil, environment: environment, readFile: read)
        == "Grace Hopper")
    var noVariable = environment
    noVariable["RUNBOOK_OPERATOR"] = nil
    // git reads its XDG file, then ~/.gitconfig: both give a part of [user].
    #expect(
      OperatorIdentity.resolve(given: nil, environment: noVariable, readFile: read)
        == "Ada Lovelace <ada@example.org>")
    #expect(
      OperatorIdentity.resolve(given: "  ", environment: noVariable, readFile: { _ in nil })
        .hasPrefix("root@"))
  }

  @Test func aNameIsOneLineWithoutControlCharacters() {
    #expect(
      OperatorIdentity.resolve(given: "Eve\u{1B}[2J\nMallory\t", environment: [:])
        == "Eve[2JMallory")
  }
}
