import Foundation

/// What an earlier attempt of the run left for this one: the steps done (not run again when
/// unchanged), the steps lost (the host is asked about them first), the state directory's
/// token on the hosts, and this attempt's number.
struct ResumePoint: Sendable {
  /// Records of steps done in earlier attempts, by `key(step:host:)`.
  var done: [String: StepRecord] = [:]
  /// Steps an earlier attempt lost (killed tool, lost connection), by `key(step:host:)`.
  var lost: [String: (attemptID: String, contentSHA256: String)] = [:]
  /// The run id of the attempt resumed.
  var resumes: String?
  /// Names the state directory on the hosts (kept across attempts: it holds lost steps).
  var stateToken = Digest.randomHex(8)
  /// This attempt's number.
  var attempt = 1

  /// A first attempt.
  init() {}

  /// Reads the journal at `path`.
  init(journal path: String) throws {
    let old = try Journal.readAll(path: path)
    resumes = old.run?.runID
    stateToken = old.run?.stateToken ?? stateToken
    attempt = old.attempts.count + 1
    // A step started but never recorded (the tool was killed), or recorded `unknown` (the
    // connection was lost): the host is asked what became of it before it runs again.
    var finished: Set<String> = []
    let dryRuns = Set(old.attempts.filter(\.dryRun).map { $0.attempt ?? 1 })
    for record in old.steps {
      let key = Self.key(step: record.step, host: record.host)
      if let id = record.attemptID { finished.insert(id) }
      if record.status == .unknown, let id = record.attemptID {
        lost[key] = (id, record.contentSHA256)
      } else {
        lost[key] = nil
      }
      // Done: it ran and succeeded, or its guard found it done. A step the operator
      // skipped, or that an earlier attempt lost, was not done.
      let isDone =
        record.status == .ok
        || (record.status == .skipped && !dryRuns.contains(record.attempt ?? 1)
          && record.operatorAction == nil)
      if isDone {
        done[key] = record
      } else if record.status != .skipped || record.operatorAction != nil {
        done[key] = nil
      }
    }
    for start in old.starts where !finished.contains(start.attemptID) {
      lost[Self.key(step: start.step, host: start.host)] = (start.attemptID, start.contentSHA256)
    }
  }

  /// What the steps done in earlier attempts changed in each host's sessions, replayed in
  /// the steps' order: the sessions start this attempt where those steps left them. `lost`
  /// names what `key` cannot open (values sealed on another machine), as `host: NAME`.
  func sessionChanges(key: RunKey) -> (changes: [SessionKey: ShellStateChange], lost: [String]) {
    var changes: [SessionKey: ShellStateChange] = [:]
    var lost: [String] = []
    for record in done.values.sorted(by: { $0.index < $1.index }) {
      guard let session = record.session else { continue }
      let opened = session.change(key: key)
      let sessionKey = SessionKey(host: record.host, user: session.user)
      changes[sessionKey] = (changes[sessionKey] ?? ShellStateChange()).then(opened.change)
      lost += opened.lost.map { "\(record.host): \($0)" }
    }
    return (changes, lost)
  }

  /// The key of a step's result on a host across attempts: the step's id (an edit that
  /// inserts a step does not move the others' results), and the host.
  static func key(step: String, host: String) -> String { step + "\u{0}" + host }

  /// What `--resume` compares: a SHA-256 of the rendered step, keyed with the run's key
  /// when the text holds a secret (so the journal is no oracle for guessing it).
  static func contentHash(
    _ step: Step, _ rendered: RenderedStep, masker: SecretMasker, key: RunKey
  ) -> String {
    var text = step.kind.rawValue + "\u{0}" + rendered.body
    for field in StepField.allCases { text += "\u{0}" + (rendered.fields[field] ?? "") }
    if masker.mask(text) != text { return key.hash(Data(text.utf8)) }
    return Digest.sha256(Data(text.utf8))
  }
}
