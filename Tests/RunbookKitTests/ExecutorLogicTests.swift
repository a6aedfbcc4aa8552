import Foundation
import RunbookTestSupport
import Testing

@testable import RunbookKit

/// The executor's decisions — retries and their delays, timeouts, stops, resumes, the
/// operator's answers — driven through scripted hosts and a clock whose waits take no
/// time: no process starts and nothing sleeps, so each test runs in milliseconds.
@Suite struct ExecutorLogicTests {
  static let inventory = "[web]\nw1 ansible_host=192.0.2.1\nw2 ansible_host=192.0.2.2\n"

  struct Scripted {
    let dir: URL
    let hosts = ScriptedHosts()
    let clock = RecordingClock()

    init() throws {
      dir = FileManager.default.temporaryDirectory.appendingPathComponent(
        "runbook-logic-\(UUID().uuidString.prefix(8))")
      try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    func executor(
      _ markdown: String, resume: Bool = false, interaction: (any Interaction)? = nil
    ) throws -> Executor {
      let (runbook, problems) = Runbook.parse(markdown, file: "r.md")
      let inventory = try InventoryParser.parse(ExecutorLogicTests.inventory, file: "hosts")
      let (plan, more) = Planner.plan(runbook, inventory: inventory)
      #expect((problems + more).filter { $0.severity == .error }.isEmpty)
      var options = ExecOptions(
        runDirectory: dir.appendingPathComponent("run").path,
        ssh: SSHSettings(controlDirectory: dir.path), operatorName: "tester@test")
      options.resume = resume
      var executor = Executor(plan: plan, options: options, runner: NoProcesses())
      executor.clock = clock
      executor.makeTransport = hosts.maker
      executor.interaction = interaction
      return executor
    }

    func records() throws -> [StepRecord] {
      try Journal.read(path: dir.appendingPathComponent("run/journal.jsonl").path).steps
    }

    func cleanUp() { try? FileManager.default.removeItem(at: dir) }
  }

  @Test func retriesWaitTheirDelayOnTheClockAndStopAtTheFirstSuccess() async throws {
    let s = try Scripted()
    defer { s.cleanUp() }
    s.hosts.script("flaky", on: "w1", .exit(1), .exit(1), .exit(0, stdout: "up\n"))
    let summary = try await s.executor(
      "```sh {role=web name=flaky retries=5 delay=30s}\ncurl -f http://localhost/\n```\n"
    ).run()
    #expect(summary.status == .passed)
    #expect(s.clock.sleeps == [.seconds(30), .seconds(30)])
    #expect(s.hosts.runCount("flaky", on: "w1") == 3)
    #expect(s.hosts.runCount("flaky", on: "w2") == 1)
    let w1 = try #require(try s.records().first { $0.host == "w1" })
    #expect(w1.attempts == 3 && w1.status == .ok)
    // The clock's time is the record's: two delays of 30 s.
    #expect(w1.durationMs == 60_000)
  }

  @Test func aTimeoutFailsTheStepAndTheRunStopsBeforeTheNext() async throws {
    let s = try Scripted()
    defer { s.cleanUp() }
    s.hosts.script("wait", on: "w2", .hang)
    let summary = try await s.executor(
      """
      ```sh {role=web name=wait timeout=5m}
      systemctl start slow
      ```
      ```sh {role=web name=after}
      true
      ```
      """
    ).run()
    #expect(summary.status == .failed && summary.exitStatus == 1)
    let records = try s.records()
    #expect(
      records.map { "\($0.step)@\($0.host) \($0.status)" } == ["wait@w1 ok", "wait@w2 timeout"])
    #expect(records.last?.reason == "stopped after 300s")
    #expect(s.hosts.runs.first { $0.host == "w2" }?.timeout == .seconds(300))
    #expect(s.hosts.runCount("after", on: "w1") == 0)
  }

  @Test func continueOnErrorRunsTheRestAndTheRunStillFails() async throws {
    let s = try Scripted()
    defer { s.cleanUp() }
    s.hosts.script("one", on: "w1", .exit(3))
    var executor = try s.executor(
      "```sh {role=web name=one}\nfalse\n```\n```sh {role=web name=two}\ntrue\n```\n")
    executor.options.continueOnError = true
    let summary = try await executor.run()
    #expect(summary.status == .failed)
    #expect(s.hosts.runCount("two", on: "w1") == 1 && s.hosts.runCount("two", on: "w2") == 1)
  }

  @Test func cancellingTheRunStopsTheRunningStepAndEndsInterrupted() async throws {
    let s = try Scripted()
    defer { s.cleanUp() }
    s.hosts.script("long", on: "w1", .hang)
    s.hosts.script("long", on: "w2", .hang)
    let executor = try s.executor(
      "```sh {role=web name=long}\nsleep 600\n```\n```sh {role=web name=next}\ntrue\n```\n")
    let task = Task { try await executor.run() }
    while s.hosts.runs.count < 2 { await Task.yield() }
    task.cancel()
    let summary = try await task.value
    #expect(summary.status == .interrupted && summary.exitStatus == 130)
    #expect(try s.records().map(\.status) == [.interrupted, .interrupted])
    #expect(s.hosts.runCount("next", on: "w1") == 0)
  }

  @Test func aResumeAsksTheHostAboutALostStepInsteadOfRunningItAgain() async throws {
    let s = try Scripted()
    defer { s.cleanUp() }
    let book = "```sh {role=web name=migrate}\nmanage.py migrate\n```\n"
    s.hosts.script("migrate", on: "w2", .lost)
    let first = try await s.executor(book).run()
    #expect(first.status == .failed)
    #expect(try s.records().map(\.status) == [.ok, .unknown])
    // The host says the step finished after the connection was lost: it is not run again.
    s.hosts.answer(.done(0), host: "w2")
    let second = try await s.executor(book, resume: true).run()
    #expect(second.status == .passed)
    #expect(s.hosts.runCount("migrate", on: "w2") == 1)
    #expect(s.hosts.questions == ["w2"])
    let last = try #require(try s.records().last)
    #expect(last.host == "w2" && last.status == .ok)
    #expect(last.reason?.hasPrefix("finished on the host after an earlier attempt lost it") == true)
    // w1's step was done and unchanged: kept, not run.
    #expect(s.hosts.runCount("migrate", on: "w1") == 1)
  }

  @Test func anInteractiveRetryRunsOnlyTheHostsThatFailed() async throws {
    let s = try Scripted()
    defer { s.cleanUp() }
    s.hosts.script("deploy", on: "w2", .exit(1), .exit(0))
    let interaction = ScriptedInteraction(before: [.run], after: [.retry])
    let summary = try await s.executor(
      "```sh {role=web name=deploy}\n./deploy\n```\n", interaction: interaction
    ).run()
    #expect(summary.status == .passed)
    #expect(interaction.asked == ["before deploy", "after deploy on w2"])
    #expect(s.hosts.runCount("deploy", on: "w1") == 1)
    #expect(s.hosts.runCount("deploy", on: "w2") == 2)
    let records = try s.records()
    #expect(
      records.map { "\($0.host) \($0.status) \($0.retry ?? 0)" } == [
        "w1 ok 0", "w2 failed 0", "w2 ok 1",
      ])
  }

  @Test func anOperatorSkipIsRecordedAndNothingRuns() async throws {
    let s = try Scripted()
    defer { s.cleanUp() }
    let interaction = ScriptedInteraction(before: [.skip, .quit], after: [])
    let summary = try await s.executor(
      "```sh {role=web name=a}\ntrue\n```\n```sh {role=web name=b}\ntrue\n```\n",
      interaction: interaction
    ).run()
    // Quitting at a question is the operator's decision: stopped, exit status 4.
    #expect(summary.status == .stopped && summary.exitStatus == 4)
    #expect(s.hosts.runs.isEmpty)
    #expect(try s.records().map(\.operatorAction) == [.skipped, .skipped])
  }
}
