import Foundation

/// What the operator did to a step in `--interactive`, beyond letting it run: each is a
/// deviation from the runbook that the reports count and mark.
public enum OperatorAction: String, Sendable, Codable, Hashable {
  /// The operator edited the script before it ran.
  case edited
  /// The operator chose not to run the step.
  case skipped
  /// The operator confirmed a manual step as done.
  case confirmed
  /// The operator said a manual step was not done.
  case declined
}

/// The first record of a journal: who ran what, where, with which inputs.
public struct RunRecord: Codable, Sendable, Equatable {
  /// Always "run".
  public var type = "run"
  /// The run's id (the run directory's name).
  public var runID: String
  /// The runbook file as given.
  public var runbook: String
  /// The runbook's title.
  public var title: String
  /// SHA-256 of the runbook file.
  public var runbookSHA256: String
  /// The inventory file, or nil for the embedded default.
  public var inventory: String?
  /// SHA-256 of the inventory file.
  public var inventorySHA256: String?
  /// `user@machine` of the operator.
  public var operatorName: String
  /// The tool version.
  public var toolVersion: String
  /// When the run started (ISO 8601, UTC).
  public var startedAt: String
  /// Variables shared by all hosts, secrets masked.
  public var variables: [String: String]
  /// The number of steps in the plan.
  public var stepCount: Int
  /// The hosts the plan targets.
  public var hosts: [String]
  /// `--dry-run`.
  public var dryRun: Bool
  /// The run this one resumes, if any.
  public var resumes: String?
  /// The indices of the steps the selection kept (all when nil).
  public var selectedSteps: [Int]?
  /// Names the run's state directory on each host (`runbook-state-TOKEN`), where the
  /// session records each step's pid and exit status; the same in every attempt.
  public var stateToken: String?
  /// The attempt this record starts (1 for the first `exec`, 2 for the first `--resume`…).
  /// A journal holds one run record per attempt; nil in journals from before attempts.
  public var attempt: Int?
  /// The attempt's snapshot of the runbook, in the run directory (`runbook.md` when nil).
  public var snapshot: String?
  /// The definition of each variable whose value came from a template, secrets masked
  /// (`variables` holds the values as used).
  public var variableDefinitions: [String: String]?
  /// The attempt asked the operator before each step.
  public var interactive: Bool?
  /// The hosts each combination of roles runs on (key: the roles joined by spaces, as a
  /// step lists them), as positions in `hosts`: the reports tell a step that does not run
  /// on a host from one that was not reached there.
  public var roleHosts: [String: [Int]]?
  /// How the run reached each host (`hosts`' order); nil in journals from before.
  public var hostDetails: [HostRecord]?

  /// Creates a record.
  public init(
    runID: String, runbook: String, title: String, runbookSHA256: String, inventory: String?,
    inventorySHA256: String?, operatorName: String, toolVersion: String, startedAt: String,
    variables: [String: String], stepCount: Int, hosts: [String], dryRun: Bool,
    resumes: String? = nil, selectedSteps: [Int]? = nil, attempt: Int? = nil
  ) {
    self.attempt = attempt
    self.runID = runID
    self.runbook = runbook
    self.title = title
    self.runbookSHA256 = runbookSHA256
    self.inventory = inventory
    self.inventorySHA256 = inventorySHA256
    self.operatorName = operatorName
    self.toolVersion = toolVersion
    self.startedAt = startedAt
    self.variables = variables
    self.stepCount = stepCount
    self.hosts = hosts
    self.dryRun = dryRun
    self.resumes = resumes
    self.selectedSteps = selectedSteps
  }

  enum CodingKeys: String, CodingKey {
    case type, runID, runbook, title, runbookSHA256, inventory, inventorySHA256
    case operatorName = "operator"
    case toolVersion, startedAt, variables, stepCount, hosts, dryRun, resumes, selectedSteps
    case stateToken, attempt, snapshot, variableDefinitions, interactive, roleHosts, hostDetails
  }

  /// The attempt's runbook snapshot in the run directory.
  public var snapshotFile: String { snapshot ?? RunReport.snapshotName }
}

/// One step on one host.
public struct StepRecord: Codable, Sendable, Equatable {
  /// Always "step".
  public var type = "step"
  /// The step's id.
  public var step: String
  /// The step's 0-based index in the runbook.
  public var index: Int
  /// The step's kind.
  public var kind: StepKind
  /// The fence's line in the runbook.
  public var line: Int
  /// The headings above the step.
  public var headingPath: [String]
  /// The host's inventory name.
  public var host: String
  /// What happened.
  public var status: StepStatus
  /// Why a step was skipped or failed, in a few words.
  public var reason: String?
  /// The exit status of the last attempt.
  public var exitCode: Int32?
  /// How many times it ran.
  public var attempts: Int
  /// Start and end (ISO 8601, UTC) and duration.
  public var startedAt: String
  public var endedAt: String
  public var durationMs: Int
  /// The rendered script or content, secrets masked.
  public var script: String
  /// SHA-256 of the rendered text with real values: `--resume` skips a step only when it
  /// would run the same thing.
  public var contentSHA256: String
  /// The log file, relative to the run directory.
  public var log: String?
  /// Size and SHA-256 of the log.
  public var outputBytes: Int
  public var outputSHA256: String
  /// The end of the output, masked.
  public var outputTail: String
  /// The tail is not all of the output.
  public var outputTruncated: Bool
  /// The lines of `outputTail` that standard error wrote, as 1-based first-last pairs;
  /// nil when none did.
  public var stderrLines: [[Int]]?
  /// Variables captured on this host (secrets masked).
  public var captured: [String: String]?
  /// For file steps: whether the file changed, and the unified diff (masked).
  public var changed: Bool?
  public var diff: String?
  /// For console steps and `expect`: what did not match.
  public var mismatch: String?
  /// An interactive edit: the diff from the runbook's script to what ran (masked).
  public var deviation: String?
  /// The operator's note on a manual step.
  public var note: String?
  /// What the step changed in its host's session (directory, variables, functions).
  public var session: SessionRecord?
  /// The step's nonce on the host: names its pid and status files in the state directory.
  public var attemptID: String?
  /// The attempt of the run (see `RunRecord.attempt`) that wrote this record.
  public var attempt: Int?
  /// How many times the operator had the step retried on this host in this attempt
  /// (`--interactive`), when it is a retry.
  public var retry: Int?
  /// The step did not run in this attempt: it was done, unchanged, in attempt `keptFrom`,
  /// whose record is the result that counts.
  public var keptFrom: Int?
  /// A deviation by the operator.
  public var operatorAction: OperatorAction?
  /// For an edited step: the runbook's script as it would have run (masked); `script`
  /// holds what ran.
  public var runbookScript: String?
  /// Creates a record.
  public init(
    step: String, index: Int, kind: StepKind, line: Int, headingPath: [String], host: String,
    status: StepStatus, reason: String?, exitCode: Int32?, attempts: Int, startedAt: String,
    endedAt: String, durationMs: Int, script: String, contentSHA256: String, log: String?,
    outputBytes: Int, outputSHA256: String, outputTail: String, outputTruncated: Bool,
    captured: [String: String]? = nil, changed: Bool? = nil, diff: String? = nil,
    mismatch: String? = nil
  ) {
    self.step = step
    self.index = index
    self.kind = kind
    self.line = line
    self.headingPath = headingPath
    self.host = host
    self.status = status
    self.reason = reason
    self.exitCode = exitCode
    self.attempts = attempts
    self.startedAt = startedAt
    self.endedAt = endedAt
    self.durationMs = durationMs
    self.script = script
    self.contentSHA256 = contentSHA256
    self.log = log
    self.outputBytes = outputBytes
    self.outputSHA256 = outputSHA256
    self.outputTail = outputTail
    self.outputTruncated = outputTruncated
    self.captured = captured
    self.changed = changed
    self.diff = diff
    self.mismatch = mismatch
  }
}

/// A step about to start on a host: if the tool dies before the step's record, a resume
/// finds this and asks the host what became of the step before running it again.
public struct StartRecord: Codable, Sendable, Equatable {
  /// Always "start".
  public var type = "start"
  /// The step's id and 0-based index.
  public var step: String
  public var index: Int
  /// The host's inventory name.
  public var host: String
  /// The step's nonce on the host.
  public var attemptID: String
  /// The SHA-256 (or keyed hash) of what it runs, as in the step record.
  public var contentSHA256: String
  /// When it started.
  public var startedAt: String
  /// The log it writes, relative to the run directory.
  public var log: String?
  /// Creates a record.
  public init(
    step: String, index: Int, host: String, attemptID: String, contentSHA256: String,
    startedAt: String, log: String? = nil
  ) {
    self.log = log
    self.step = step
    self.index = index
    self.host = host
    self.attemptID = attemptID
    self.contentSHA256 = contentSHA256
    self.startedAt = startedAt
  }
}

/// The SHA-256 of each report file, written after the reports (again by `runbook report`);
/// `runbook verify` checks the files against the last such record.
public struct ReportsRecord: Codable, Sendable, Equatable {
  /// Always "reports".
  public var type = "reports"
  /// File name (in the run directory) to SHA-256.
  public var files: [String: String]
  /// The digest of the journal record the reports were rendered up to.
  public var renderedAt: String
  /// Creates a record.
  public init(
    files: [String: String], renderedAt: String
  ) {
    self.files = files
    self.renderedAt = renderedAt
  }
}

/// The last record of a run.
public struct RunEndRecord: Codable, Sendable, Equatable {
  /// Always "end".
  public var type = "end"
  /// How the run ended.
  public var status: RunStatus
  /// When the run ended.
  public var endedAt: String
  /// Step×host records per status.
  public var counts: [String: Int]
  /// Creates a record.
  public init(
    status: RunStatus, endedAt: String, counts: [String: Int]
  ) {
    self.status = status
    self.endedAt = endedAt
    self.counts = counts
  }
}

/// A host as the run reached it, for the reports' hosts table: where, how, as whom.
public struct HostRecord: Codable, Sendable, Equatable {
  /// The inventory name.
  public var name: String
  /// The address connected to (`ansible_host`, else the name).
  public var address: String
  /// The port, when the inventory sets one.
  public var port: Int?
  /// `local` or `ssh`.
  public var connection: String
  /// The remote login user, when the inventory sets one (else ssh's own choice).
  public var user: String?
  /// The users steps ran as through sudo (or runuser) on the host, `root` for `become`.
  public var becomes: [String]?

  /// Creates a record.
  public init(
    name: String, address: String, port: Int?, connection: String, user: String?,
    becomes: [String]?
  ) {
    self.name = name
    self.address = address
    self.port = port
    self.connection = connection
    self.user = user
    self.becomes = becomes
  }

  /// `address:port`, or the address alone.
  public var endpoint: String { port.map { "\(address):\($0)" } ?? address }

  /// The login as the reports say it: the user, else whose choice it is.
  public var login: String {
    user
      ?? (connection == "local"
        ? "this machine's user" : "ssh's default (User in its config, else your login name)")
  }

  /// How steps become another user on the host: runuser when the login is root, sudo
  /// otherwise (as the session does it); nil when no step does.
  public var becomeMethod: String? {
    guard let becomes, !becomes.isEmpty else { return nil }
    switch user {
    case "root": return "runuser"
    case nil: return "sudo, or runuser if the login is root"
    default: return "sudo"
    }
  }
}
