import ArgumentParser
import Foundation
import RunbookKit

/// `runbook exec`: preflight everything, then run the steps on the hosts of their roles.
struct Exec: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Run a runbook: preflight (exit 2 on any problem), then every step in order.",
    discussion:
      "Exit status: 0 all steps passed, 1 a step failed, 2 invalid input, 130 interrupted.")

  @OptionGroup var options: RunbookOptions

  @OptionGroup var connection: ConnectionOptions

  @Option(help: "How many hosts run a step at once.")
  var forks = 10

  @Flag(help: "Record failures and go on instead of stopping after the failing step.")
  var continueOnError = false

  @Flag(help: "Preflight and record the plan; run nothing.")
  var dryRun = false

  @Flag(
    help:
      "Ask before each step (run, skip, edit, all, quit) and after failures (retry, skip, shell, quit)."
  )
  var interactive = false

  @Flag(help: "Only failures and the summary.")
  var quiet = false

  @Flag(
    help: "Stream every output line (on a terminal, the live view otherwise shows only progress).")
  var verbose = false

  @Flag(help: "No colours or escape codes (also NO_COLOR=1).")
  var noColor = false

  @Option(help: "The run directory (default: Reports/<runbook>-<UTC timestamp>).")
  var reportDir: String?

  @Option(
    help: "Continue the run in RUN_DIR: steps that succeeded with the same content are skipped.")
  var resume: String?

  @Option(help: "Only these hosts or groups (comma-separated).")
  var limit: String?

  @Option(help: "Only steps of these roles (comma-separated).")
  var role: String?

  @Option(help: "Only steps with one of these tags (comma-separated).")
  var tags: String?

  @Option(help: "Start at this step id.")
  var from: String?

  @Option(help: "Stop after this step id.")
  var to: String?

  @Option(
    help:
      "Sign the run directory with this ssh key once its reports are written (as runbook sign --key)."
  )
  var signKey: String?

  func run() async throws {
    var preflight = options.preflight
    let environment = ProcessInfo.processInfo.environment
    var outcome = preflight.run()
    // Values nobody gave (secrets, what Runme blocks ask for): from the environment or a
    // question on the terminal; every one missing is reported at once.
    if let plan = outcome.plan, !plan.missingSecrets.isEmpty || !plan.askedVariables.isEmpty,
      !outcome.diagnostics.hasErrors
    {
      let ask: RunSetup.Ask? =
        isatty(STDIN_FILENO) == 1
        ? { question, secret in
          secret ? SecretPrompt.read(question) : SecretPrompt.readVisible(question)
        } : nil
      let (assignments, problems) = RunSetup.missingValues(
        of: plan, environment: environment, ask: ask)
      try report(problems)
      preflight.variables += assignments
      outcome = preflight.run()
    }
    try report(outcome.diagnostics)
    guard let plan = outcome.plan else { return }

    var selection = Selection()
    selection.limit = split(limit)
    selection.roles = split(role)
    selection.tags = split(tags)
    selection.from = from
    selection.to = to
    let (chosen, selectionProblems) = selection.apply(to: plan)
    try report(selectionProblems)

    var ssh = try SSHSettings.makePrivate()
    connection.apply(to: &ssh)
    defer { try? FileManager.default.removeItem(atPath: ssh.controlDirectory) }

    let runDirectory =
      resume ?? reportDir ?? RunSetup.defaultRunDirectory(for: options.runbook)
    var execOptions = ExecOptions(
      runDirectory: runDirectory, ssh: ssh,
      operatorName: RunSetup.operatorName(environment: environment))
    execOptions.forks = max(forks, 1)
    execOptions.continueOnError = continueOnError
    execOptions.dryRun = dryRun
    execOptions.selected = chosen
    execOptions.resume = resume != nil
    var executor = Executor(plan: plan, options: execOptions)
    // On a terminal, a live view; otherwise (or with --no-color/NO_COLOR) plain lines.
    let terminal = isatty(STDOUT_FILENO) == 1 && !noColor && environment["NO_COLOR"] == nil
    var view: ProgressView?
    if quiet {
      executor.events = { event in
        if case .hostFinished(let record) = event,
          [.failed, .timeout, .interrupted].contains(record.status)
        {
          say(
            "\(record.step) on \(record.host): \(record.status.rawValue)\(record.reason.map { " — \($0)" } ?? "")"
          )
        }
      }
    } else if terminal && !interactive {
      let live = ProgressView(
        color: true, verbose: verbose, write: { FileHandle.standardOutput.write(Data($0.utf8)) })
      executor.events = { live.handle($0) }
      view = live
    } else {
      executor.echo = { line in say(line) }
    }
    if interactive {
      executor.interaction = TerminalInteraction(
        input: isatty(STDIN_FILENO) == 1 ? .terminal : .lines, environment: environment,
        runDirectory: runDirectory,
        write: { text in
          FileHandle.standardOutput.write(Data(text.utf8))
        })
    }

    // A dry run checks the hosts too: it is the preflight without the steps.
    var touched: Set<String> = []
    for (planned, positions) in zip(plan.steps, chosen) {
      for position in positions ?? [] { touched.insert(planned.hosts[position]) }
    }
    var unreachable = await executor.checkConnectivity(hosts: touched)
    // Steps that run as another user can, on every host that runs them.
    if unreachable.isEmpty { unreachable = await executor.checkEscalation(selected: chosen) }
    if !unreachable.isEmpty {
      await executor.closeConnections()
      try report(unreachable)
    }

    // One writer per run directory, from here until the reports are written.
    let lock: RunDirectoryLock
    do {
      lock = try RunDirectoryLock.forRun(
        runDirectory, resume: resume != nil, runbook: options.runbook)
    } catch let error as RunDirectoryError {
      try report([Diagnostic(.error, at: nil, error.description)])
      return
    }
    defer { withExtendedLifetime(lock) {} }

    let running = executor
    let task = Task { try await running.run() }
    let signals = [SIGINT, SIGTERM].map { number -> DispatchSourceSignal in
      signal(number, SIG_IGN)
      let source = DispatchSource.makeSignalSource(signal: number)
      source.setEventHandler {
        TerminalMode.restore()
        say("\ninterrupted: stopping the running commands…")
        task.cancel()
      }
      source.resume()
      return source
    }
    view?.start()
    let result = await task.result
    view?.stop()
    for source in signals { source.cancel() }
    await executor.closeConnections()
    // Reports are written for every run that has a journal: passed, failed, interrupted.
    var report: RunReport?
    do {
      report = try await RunDirectory.writeReports(directory: runDirectory)
    } catch {
      var stderr = StandardError()
      print("warning: reports not written: \(error)", to: &stderr)
    }
    if let signKey {
      do {
        try await RunSignature.sign(directory: runDirectory, key: signKey)
      } catch {
        var stderr = StandardError()
        print("warning: the run was not signed: \(error)", to: &stderr)
      }
    }
    let summary = try result.get()
    // The results that count, over every attempt of the run (a resume's own records of
    // steps found done are not news).
    let counts =
      report?.resultLine
      ?? summary.counts.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(
        separator: ", ")
    let deviations = report.map { $0.deviationSummary.isEmpty ? "" : " · " + $0.deviationSummary }
    say("run \(summary.status): \(counts)\(deviations ?? "")")
    if let problem = summary.problem {
      var stderr = StandardError()
      print("error: \(problem)", to: &stderr)
    }
    say("run directory: \(summary.runDirectory) (report.html, report.md, run.json, junit.xml)")
    if summary.exitStatus != 0 { throw ExitCode(summary.exitStatus) }
  }

  private func split(_ text: String?) -> [String] {
    (text ?? "").split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }
      .filter { !$0.isEmpty }
  }
}

/// Questions on the terminal.
enum SecretPrompt {
  /// Reads a line without echo.
  static func read(_ prompt: String) -> String? {
    FileHandle.standardError.write(Data(prompt.utf8))
    var old = termios()
    tcgetattr(STDIN_FILENO, &old)
    var silent = old
    silent.c_lflag &= ~tcflag_t(ECHO)
    tcsetattr(STDIN_FILENO, TCSANOW, &silent)
    defer {
      tcsetattr(STDIN_FILENO, TCSANOW, &old)
      FileHandle.standardError.write(Data("\n".utf8))
    }
    return readLine(strippingNewline: true)
  }

  /// Reads a line, echoed.
  static func readVisible(_ prompt: String) -> String? {
    FileHandle.standardError.write(Data(prompt.utf8))
    return readLine(strippingNewline: true)
  }
}

/// Writes a line to standard output unbuffered, so progress, output and prompts keep their
/// order also when standard output is a pipe.
func say(_ line: String) {
  FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
