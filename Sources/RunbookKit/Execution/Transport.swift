import Foundation

/// How runbook reaches one host. The executor asks a host for nothing else, and never asks
/// which transport it has: checks before a run, a step run with its output streamed and
/// stopped on timeout or interrupt, the question what became of a lost step, the
/// operator's shell, and the end of the session.
///
/// A transport is one file (a type that conforms, and its `Connection` constant) plus one
/// line in `TransportRegistry.entries`.
public protocol Transport: Sendable {
  /// The host.
  var host: PlanHost { get }
  /// What messages call the way to the host ("ssh").
  var name: String { get }
  /// Checks that the host answers (opening what later steps reuse); why not, or nil.
  func checkConnection() async -> String?
  /// Checks that the host can run steps as each of `users` (`-`: root); why not, or nil.
  func checkEscalation(users: [String]) async -> String?
  /// Runs a step's script, as `user` when one is given (`-`: root), its output streamed into
  /// `collector`; it is stopped (with its whole process group) on `timeout` or when the
  /// task is cancelled.
  func run(
    _ script: StepScript, as user: String?, timeout: Duration?, collector: OutputCollector
  ) async -> CommandOutcome
  /// What became of a step an earlier attempt lost; nil when the host cannot be asked.
  func ask(about attemptID: String) async -> RemoteState?
  /// The operator's interactive shell on the host.
  var interactiveShell: ProcessCommand { get }
  /// `command` (the tool's own shell text) on the host, on the operator's terminal.
  func interactive(_ command: String) -> ProcessCommand
  /// Ends the host's session, removing the run's state there when `forget`, and releases
  /// what the transport holds open.
  func close(forget: Bool) async
}

/// What became of a step, as the host tells it.
public enum RemoteState: Equatable, Sendable {
  /// It ended with this exit status.
  case done(Int32)
  /// Its processes are gone and no status was written (the loop was killed with it).
  case gone
  /// It never started there.
  case unknown
}

/// An inventory value a transport refuses: which, what it is, and why.
struct ConnectionValueProblem: Equatable, Sendable {
  /// The value's name for the operator (`ansible_user`).
  var what: String
  /// The value.
  var value: String
  /// Why it cannot be used.
  var why: String
}

/// What the transports of a run share.
public struct TransportContext: Sendable {
  /// The one way processes start.
  public var runner: any CommandRunning
  /// The ssh client's settings.
  public var ssh: SSHSettings
  /// Names the run's state directory on every host.
  public var stateToken: String
  /// The run's clock: steps' timeouts are waited for on it.
  public var clock: any RunClock

  /// Creates a context.
  public init(
    runner: any CommandRunning, ssh: SSHSettings, stateToken: String,
    clock: any RunClock = SystemRunClock()
  ) {
    self.runner = runner
    self.ssh = ssh
    self.stateToken = stateToken
    self.clock = clock
  }
}

/// The transports runbook knows, by connection.
public enum TransportRegistry {
  /// Makes a host's transport.
  public typealias Maker = @Sendable (PlanHost, TransportContext) -> any Transport

  /// A transport's registration: its connection, the `ansible_connection` words that
  /// name it, what it refuses of a host's inventory values, and how to make it.
  struct Entry: Sendable {
    let connection: Connection
    let words: [String]
    var check: @Sendable (PlanHost) -> ConnectionValueProblem? = { _ in nil }
    let make: Maker
  }

  /// One line per transport.
  static let entries: [Entry] = [
    Entry(connection: .local, words: ["local"]) { LocalTransport(host: $0, context: $1) },
    Entry(
      connection: .ssh, words: ["ssh", "smart", "paramiko"],
      check: OpenSSHTransport.connectionValueProblem
    ) { OpenSSHTransport(host: $0, context: $1) },
  ]

  /// The inventory value of `host` its transport cannot take, checked before anything runs.
  static func problem(of host: PlanHost) -> ConnectionValueProblem? {
    entries.first { $0.connection == host.connection }?.check(host)
  }

  /// Each `ansible_connection` word runbook has a transport for, and its connection.
  public static let ansibleWords: [String: Connection] = Dictionary(
    uniqueKeysWithValues: entries.flatMap { entry in entry.words.map { ($0, entry.connection) } })

  /// The transport of `host`.
  public static func transport(for host: PlanHost, context: TransportContext) -> any Transport {
    guard let entry = entries.first(where: { $0.connection == host.connection }) else {
      preconditionFailure("connection \(host.connection.rawValue) has no transport")
    }
    return entry.make(host, context)
  }
}

extension Transport {
  /// Runs the tool's own `text` on the host as `user` (nil: the login user), its output
  /// dropped; its exit status, nil when it did not end with one.
  func runQuietly(_ text: String, as user: String?) async -> Int32? {
    let collector = OutputCollector(
      logPath: nil, masker: SecretMasker(values: []), hiddenPrefixes: [], echo: nil)
    let outcome = await run(
      StepScript(shell: .sh, text: text, nonce: StepScript.makeNonce()), as: user,
      timeout: .seconds(30), collector: collector)
    _ = collector.finish()
    return outcome.exitStatus
  }
}
