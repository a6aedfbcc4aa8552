import Foundation

/// What a run takes from the world around it: the process environment, the operator's
/// terminal, signals, and the doors through which processes start. The CLI gives the real
/// ones; a test gives its own and drives a whole run in-process.
public struct RunEnvironment: Sendable {
  /// The process environment (`RUNBOOK_SECRET_*`, `USER`, `VISUAL`).
  public var variables: [String: String]
  /// Asks the operator for a value nobody gave; `nil` when there is nobody to ask.
  public var ask: RunSetup.Ask?
  /// Writes text for the operator (standard output).
  public var write: @Sendable (String) -> Void
  /// Writes a warning or an error line (standard error).
  public var warn: @Sendable (String) -> Void
  /// Shows problems with the input, all at once (standard error).
  public var diagnose: @Sendable ([Diagnostic]) -> Void
  /// Starts listening for interrupts (SIGINT, SIGTERM) for as long as the steps run; each
  /// value is one signal's number.
  public var signals: @Sendable () -> AsyncStream<Int32>
  /// The operator's questions for `--interactive`, given the run directory.
  public var makeInteraction: (@Sendable (_ runDirectory: String) -> any Interaction)?
  /// Called first when a signal arrives (the terminal leaves raw mode).
  public var interrupted: @Sendable () -> Void = {}
  /// Starts processes.
  public var runner: any CommandRunning = SubprocessRunner()
  /// Makes each host's transport.
  public var makeTransport: TransportRegistry.Maker = TransportRegistry.transport
  /// The time and the waits between retries.
  public var clock: any RunClock = SystemRunClock()

  /// An environment; what is not given stays silent, asks nobody and hears no signal.
  public init(
    variables: [String: String] = [:], ask: RunSetup.Ask? = nil,
    write: @escaping @Sendable (String) -> Void = { _ in },
    warn: @escaping @Sendable (String) -> Void = { _ in },
    diagnose: @escaping @Sendable ([Diagnostic]) -> Void = { _ in },
    signals: @escaping @Sendable () -> AsyncStream<Int32> = { AsyncStream { $0.finish() } }
  ) {
    self.variables = variables
    self.ask = ask
    self.write = write
    self.warn = warn
    self.diagnose = diagnose
    self.signals = signals
  }

  /// Writes one line for the operator.
  func say(_ line: String) { write(line + "\n") }
}
