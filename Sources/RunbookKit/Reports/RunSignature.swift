import Foundation

/// A run directory signed with the operator's ssh key, as git signs commits: the journal's
/// digest chain shows that nothing was edited *unless* someone recomputed the chain, which
/// anyone can; a signature over the final digest by a key the auditor trusts cannot be
/// recomputed. `ssh-keygen -Y sign` does the signing (a key file, or the agent's key named
/// by its public key), `ssh-keygen -Y verify` the checking against an allowed-signers file.
public enum RunSignature {
  /// What is signed: the statement (see `Statement`).
  public static let fileName = "signature.txt"
  /// The ssh signature of `fileName`.
  public static let signatureName = fileName + ".sig"
  /// The ssh signature namespace, so a signature made for something else never counts here.
  public static let namespace = "runbook-run"

  /// A run directory's journal as signing and checking see it: its run, every record's
  /// digest, and the digest of its last record that is not a reports record.
  struct JournalState {
    var run: RunRecord
    /// The last attempt's operator.
    var operatorName: String
    /// Each line's digest and whether it is a reports record, as the chain has them.
    var records: [(digest: String, isReports: Bool)]

    var digests: [String] { records.map(\.digest) }

    /// The 1-based line of the last record that is not a reports record: what is signed.
    var contentRecord: Int { (records.lastIndex { !$0.isReports } ?? -1) + 1 }

    /// The digest of that record.
    var contentDigest: String {
      contentRecord > 0 ? records[contentRecord - 1].digest : Journal.genesis
    }
  }

  /// The journal's state, when its chain is intact.
  static func journalState(_ directory: String) throws -> JournalState {
    let path = directory + "/journal.jsonl"
    if let line = try Journal.verifyChain(path: path) {
      throw ReportError(
        "journal.jsonl:\(line) does not match its digest chain; a broken run is not signed")
    }
    guard let contents = try? Journal.readAll(path: path), let run = contents.run else {
      throw ReportError("\(directory) is not a run directory (no journal with a run record)")
    }
    return JournalState(
      run: run, operatorName: contents.attempts.last?.operatorName ?? run.operatorName,
      records: contents.chain)
  }

  /// What `verify` checks of a signed run without an allowed-signers file: the statement
  /// names this run and a state its journal went through (a run resumed after it was signed
  /// goes on from there). Whether the signature is by a trusted key needs the file.
  static func statementProblems(directory: String, run: RunRecord) -> [RunDirectory.Mismatch] {
    let fileManager = FileManager.default
    let statementPath = directory + "/" + fileName
    let signed = fileManager.fileExists(atPath: statementPath)
    guard signed || fileManager.fileExists(atPath: directory + "/" + signatureName) else {
      return []
    }
    guard signed, let data = fileManager.contents(atPath: statementPath) else {
      return [RunDirectory.Mismatch(file: fileName, problem: "is missing beside its signature")]
    }
    let digests = Set(Journal.chainDigests(path: directory + "/journal.jsonl"))
    guard let statement = Statement.parse(String(decoding: data, as: UTF8.self)),
      statement.runID == run.runID, digests.contains(statement.journalDigest)
    else {
      return [
        RunDirectory.Mismatch(
          file: fileName, problem: "does not name this run and a state of its journal")
      ]
    }
    return []
  }

  /// Checks that the signature is a well-formed ssh signature of the statement, by
  /// whichever key made it (`ssh-keygen -Y check-novalidate`): without an allowed-signers
  /// file, this is how `verify` sees an edited signature.
  public static func integrityProblems(
    directory: String, runner: any CommandRunning = SubprocessRunner()
  ) async -> [RunDirectory.Mismatch] {
    let signaturePath = directory + "/" + signatureName
    guard FileManager.default.fileExists(atPath: signaturePath),
      let statement = FileManager.default.contents(atPath: directory + "/" + fileName)
    else { return [] }
    let errors = LineBuffer()
    let outcome = await runner.run(
      ProcessCommand(
        "ssh-keygen", ["-Y", "check-novalidate", "-n", namespace, "-s", signaturePath]),
      input: String(decoding: statement, as: UTF8.self), timeout: .seconds(30),
      stdout: { _ in }, stderr: { errors.append($0) })
    guard !outcome.succeeded else { return [] }
    return [
      RunDirectory.Mismatch(
        file: signatureName,
        problem:
          "is not a valid signature of \(fileName): \(errors.firstLine ?? "ssh-keygen refused it")")
    ]
  }

  /// Signs the run directory with `key` (a private key file, or a public key whose private
  /// half is in the agent) as `principal` (default: the e-mail address of the last
  /// attempt's operator, if it has one); writes `signature.txt` and `signature.txt.sig`.
  /// The reports are not part of what is signed: render them afterwards, and as often as
  /// needed.
  public static func sign(
    directory: String, key: String, principal: String? = nil,
    runner: any CommandRunning = SubprocessRunner()
  ) async throws {
    let state = try journalState(directory)
    let signer = principal ?? OperatorIdentity.principal(of: state.operatorName)
    if let signer, !OperatorIdentity.isPrincipal(signer) {
      throw ReportError(
        "'\(signer)' cannot name a signer: a principal is one word (an e-mail address)")
    }
    let statement = Statement(
      runID: state.run.runID, journalDigest: state.contentDigest, signer: signer)
    // Signed beside the old signature, which stays until the new one exists: a signing
    // that fails leaves the run signed as it was.
    let path = directory + "/." + fileName + ".new"
    try PrivateFile.write(Data(statement.text.utf8), to: path)
    try? FileManager.default.removeItem(atPath: path + ".sig")
    let errors = LineBuffer()
    let outcome = await runner.run(
      ProcessCommand("ssh-keygen", ["-q", "-Y", "sign", "-f", key, "-n", namespace, path]),
      input: "", timeout: .seconds(60), stdout: { _ in }, stderr: { errors.append($0) })
    guard outcome.succeeded, rename(path + ".sig", directory + "/" + signatureName) == 0,
      rename(path, directory + "/" + fileName) == 0
    else {
      try? FileManager.default.removeItem(atPath: path)
      try? FileManager.default.removeItem(atPath: path + ".sig")
      throw ReportError(
        "ssh-keygen could not sign with \(key): \(errors.firstLine ?? "exit \(outcome.exitStatus ?? -1)")"
      )
    }
    _ = chmod(directory + "/" + signatureName, 0o600)
  }

  /// Checks the signature against `allowedSigners` (the format of git's
  /// `gpg.ssh.allowedSignersFile`): it must be valid for `signer` (else the principal the
  /// statement names, else any the file lists for the key), and it must cover the whole
  /// journal: every record after the signed one is a reports record.
  public static func verify(
    directory: String, allowedSigners: String, signer: String?,
    runner: any CommandRunning = SubprocessRunner()
  ) async -> [RunDirectory.Mismatch] {
    let signaturePath = directory + "/" + signatureName
    guard FileManager.default.fileExists(atPath: signaturePath),
      let data = FileManager.default.contents(atPath: directory + "/" + fileName)
    else {
      return [RunDirectory.Mismatch(file: signatureName, problem: "missing: the run is not signed")]
    }
    guard let state = try? journalState(directory) else {
      return [
        RunDirectory.Mismatch(
          file: "journal.jsonl", problem: "cannot be checked against the signature")
      ]
    }
    let text = String(decoding: data, as: UTF8.self)
    guard let statement = Statement.parse(text) else {
      return [
        RunDirectory.Mismatch(file: fileName, problem: "is not a runbook signature statement")
      ]
    }
    var problems: [RunDirectory.Mismatch] = []
    if let problem = coverage(of: statement, in: state) {
      problems.append(RunDirectory.Mismatch(file: fileName, problem: problem))
    }
    if let signer, let named = statement.signer, signer != named {
      problems.append(
        RunDirectory.Mismatch(
          file: fileName,
          problem: "names \(named) as its signer, not \(signer): the reports show \(named)"))
    }
    let listed = await principals(of: signaturePath, in: allowedSigners, runner: runner)
    guard let principal = signer ?? statement.signer ?? listed.first else {
      return problems + [
        RunDirectory.Mismatch(
          file: signatureName, problem: "is not by any key in \(allowedSigners)")
      ]
    }
    let errors = LineBuffer()
    let outcome = await runner.run(
      ProcessCommand(
        "ssh-keygen",
        [
          "-Y", "verify", "-f", allowedSigners, "-I", principal, "-n", namespace, "-s",
          signaturePath,
        ]),
      input: text, timeout: .seconds(30), stdout: { _ in }, stderr: { errors.append($0) })
    if !outcome.succeeded {
      let lists =
        listed.isEmpty
        ? "\(allowedSigners) lists no principal for its key"
        : "\(allowedSigners) lists its key for \(listed.joined(separator: ", "))"
      problems.append(
        RunDirectory.Mismatch(
          file: signatureName,
          problem:
            "is not a valid signature by \(principal) (\(lists)): \(errors.firstLine ?? "ssh-keygen refused it")"
        ))
    }
    return problems
  }

  /// Why the statement does not cover the journal as it is; nil when it does.
  static func coverage(of statement: Statement, in state: JournalState) -> String? {
    guard statement.runID == state.run.runID,
      let signed = state.digests.firstIndex(of: statement.journalDigest)
    else {
      return
        "signs another journal state than this one (records were edited, removed or recomputed after signing)"
    }
    // After the signed record, only reports records: renderings, never results.
    guard signed + 1 >= state.contentRecord else {
      return
        "signs the journal through record \(signed + 1); records \(signed + 2)–\(state.contentRecord) were added after signing (a resume?): sign the run again"
    }
    return nil
  }

  /// The principals `allowedSigners` lists for the signature's key.
  static func principals(
    of signaturePath: String, in allowedSigners: String, runner: any CommandRunning
  ) async -> [String] {
    let found = LineBuffer()
    _ = await runner.run(
      ProcessCommand(
        "ssh-keygen", ["-Y", "find-principals", "-s", signaturePath, "-f", allowedSigners]),
      input: "", timeout: .seconds(30), stdout: { found.append($0) }, stderr: { _ in })
    return found.lines.filter { !$0.isEmpty }
  }
}
