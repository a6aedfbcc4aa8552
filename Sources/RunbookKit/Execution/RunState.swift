import Foundation

/// Values captured so far, per host, and the masker that hides secret ones.
actor RunState {
  private(set) var masker: SecretMasker
  private let secretNames: Set<String>
  private var values: [String: [String: String]] = [:]
  /// The latest value of each name on any host, for hosts that did not run the capture.
  private var latest: [String: String] = [:]
  private var sessions: [SessionKey: SessionTrack]
  /// The SQL client each session keeps open (see `SQLClientSession`).
  var clients: [SessionKey: SQLClientSession] = [:]

  init(
    masker: SecretMasker, secretNames: Set<String>, sessions: [SessionKey: ShellStateChange] = [:]
  ) {
    self.masker = masker
    self.secretNames = secretNames
    self.sessions = sessions.mapValues { SessionTrack(sinceStart: $0) }
  }

  /// Where a host's session for one user stands.
  func session(_ key: SessionKey) -> SessionTrack { sessions[key] ?? SessionTrack() }

  /// Takes the states a step printed: `before` (a fresh shell's, printed while the session's
  /// base was not known) and `after` (printed when the step succeeded, and given only when
  /// the step passed). The step's own `env=` values (`environment`) and `cwd=` directory
  /// are not the session's: a name that still holds its `env=` value keeps what it held.
  /// `exportedOnly` (a Runme cell) keeps only what the step exported.
  /// Returns the step's change and the state it was made to.
  func advance(
    _ key: SessionKey, before: ShellState?, after: ShellState?,
    environment: [(name: String, value: String)] = [], exportedOnly: Bool = false
  ) -> (change: ShellStateChange, from: ShellState)? {
    var track = sessions[key] ?? SessionTrack()
    defer { sessions[key] = track }
    if track.current == nil, let before { track.current = before.applying(track.sinceStart) }
    guard var after = after?.keepingUnseen(from: track.current ?? ShellState()),
      let current = track.current
    else { return nil }
    if let own = after.stepDirectory, after.cwd == own { after.cwd = current.cwd }
    for (name, value) in environment where after.variables[name]?.value == value {
      after.variables[name] = current.variables[name]
    }
    if exportedOnly {
      // A Runme cell: only its exported variables reach the next cell, as in Runme.
      after.cwd = current.cwd
      after.functions = current.functions
      after.variables = after.variables.filter { $0.value.exported }.merging(
        current.variables.filter { !$0.value.exported }
      ) { new, _ in new }
    }
    after.stepDirectory = nil
    let change = ShellStateChange.between(current, after)
    track.sinceStart = track.sinceStart.then(change)
    track.current = after
    return (change, current)
  }

  /// Masks `values` from now on: secrets a step put in its session.
  func learnSecrets(_ values: [String]) {
    let new = values.filter { !masker.secrets.contains($0) }
    if !new.isEmpty { masker = SecretMasker(values: masker.secrets + new) }
  }

  /// A host's own captured values over those captured elsewhere.
  func captured(for host: String) -> [String: String] {
    latest.merging(values[host] ?? [:]) { $1 }
  }

  func capture(_ new: [String: String], host: String) {
    values[host, default: [:]].merge(new) { $1 }
    latest.merge(new) { $1 }
    let secret = new.filter { secretNames.contains($0.key) }.map(\.value)
    if !secret.isEmpty { masker = SecretMasker(values: masker.secrets + secret) }
  }
}

/// A host's session for one user: `user` nil is the login user, `-` root (`become`).
struct SessionKey: Hashable, Sendable {
  var host: String
  var user: String?
}

/// Where a session stands in a run.
struct SessionTrack: Sendable {
  /// What the steps changed since the session began: a later step's restore script.
  var sinceStart = ShellStateChange()
  /// The whole state after the last step, once the session's base is known.
  var current: ShellState?
}

/// What every step of one run shares: the journal, the hosts' transports, the key for
/// content hashes, and what earlier attempts did.
struct RunContext: Sendable {
  let journal: Journal
  let transports: TransportPool
  let key: RunKey
  let resume: ResumePoint
  let state: RunState
  /// The run directory's name, the steps' `RUNBOOK_RUN_ID`.
  let runID: String
}
