import ArgumentParser
import Foundation
import RunbookKit

/// `runbook exec`: preflight everything, then run the steps on the hosts of their roles.
struct Exec: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Run a runbook: preflight (exit 2 on any problem), then every step in order.",
    discussion:
      "Exit status: 0 all steps passed, 1 a step failed, 2 invalid input, 4 stopped by the operator (q), 130 interrupted."
  )

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
      "Sign the run directory with this ssh key once the run ends (as runbook sign --key)."
  )
  var signKey: String?

  @Option(
    help:
      "The principal the signature names, as an allowed-signers file lists the key (default: the operator's e-mail)."
  )
  var signer: String?

  @Option(
    name: .customLong("operator"),
    help:
      "Who runs this, as the reports name them (default: RUNBOOK_OPERATOR, else git's user.name <user.email>, else login@host)."
  )
  var operatorName: String?

  func validate() throws {
    if signer != nil, signKey == nil {
      throw ValidationError("--signer names who signs with --sign-key; give the key too")
    }
  }

  func run() async throws {
    let environment = ProcessInfo.processInfo.environment
    let pipeline = RunPipeline(request: request(environment), environment: .terminal(environment))
    do {
      let summary = try await pipeline.run()
      if summary.exitStatus != 0 { throw ExitCode(summary.exitStatus) }
    } catch RunPipelineError.invalidInput {
      throw ExitStatus.invalid
    }
  }

  /// The flags, as the pipeline's request.
  private func request(_ environment: [String: String]) -> RunRequest {
    var request = RunRequest(preflight: options.preflight)
    request.selection.limit = split(limit)
    request.selection.roles = split(role)
    request.selection.tags = split(tags)
    request.selection.from = from
    request.selection.to = to
    request.reportDirectory = reportDir
    request.resumeDirectory = resume
    request.forks = forks
    request.continueOnError = continueOnError
    request.dryRun = dryRun
    request.interactive = interactive
    request.signKey = signKey
    request.signer = signer
    request.operatorName = operatorName
    let connection = connection
    request.configureSSH = { connection.apply(to: &$0) }
    // On a colour terminal, a live view; otherwise (or with --no-color/NO_COLOR) plain lines.
    let colour = isatty(STDOUT_FILENO) == 1 && !noColor && environment["NO_COLOR"] == nil
    request.presentation = quiet ? .quiet : colour ? .live(verbose: verbose) : .lines
    return request
  }

  private func split(_ text: String?) -> [String] {
    (text ?? "").split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }
      .filter { !$0.isEmpty }
  }
}

extension RunEnvironment {
  /// The operator's terminal: questions on standard error, output on standard output,
  /// diagnostics on standard error, Ctrl-C and SIGTERM as the pipeline's signals.
  static func terminal(_ variables: [String: String]) -> RunEnvironment {
    let ask: RunSetup.Ask? =
      isatty(STDIN_FILENO) == 1
      ? { @Sendable question, secret in
        secret ? SecretPrompt.read(question) : SecretPrompt.readVisible(question)
      } : nil
    var environment = RunEnvironment(
      variables: variables, ask: ask, write: { FileHandle.standardOutput.write(Data($0.utf8)) },
      warn: { line in
        var stderr = StandardError()
        print(line, to: &stderr)
      }, diagnose: { printDiagnostics($0) }, signals: { SignalStream.listen() })
    environment.interrupted = { TerminalMode.restore() }
    environment.makeInteraction = { runDirectory in
      TerminalInteraction(
        input: isatty(STDIN_FILENO) == 1 ? .terminal : .lines, environment: variables,
        runDirectory: runDirectory, write: { FileHandle.standardOutput.write(Data($0.utf8)) })
    }
    return environment
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
