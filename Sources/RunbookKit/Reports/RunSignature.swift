import Foundation

/// A run directory signed with the operator's ssh key, as git signs commits: the journal's
/// digest chain shows that nothing was edited *unless* someone recomputed the chain, which
/// anyone can; a signature over the final digest by a key the auditor trusts cannot be
/// recomputed. `ssh-keygen -Y sign` does the signing (a key file, or the agent's key named
/// by its public key), `ssh-keygen -Y verify` the checking against an allowed-signers file.
public enum RunSignature {
  /// What is signed: the run's id and the journal's final digest, one per line.
  public static let fileName = "signature.txt"
  /// The ssh signature of `fileName`.
  public static let signatureName = fileName + ".sig"
  /// The ssh signature namespace, so a signature made for something else never counts here.
  public static let namespace = "runbook-run"

  /// The text that is signed for a run directory whose journal ends at `digest`.
  static func statement(runID: String, digest: String) -> String {
    "runbook run signature v1\nrun: \(runID)\njournal-digest: \(digest)\n"
  }

  /// The run id and the final digest of the journal, when its chain is intact.
  static func journalState(_ directory: String) throws -> (runID: String, digest: String) {
    let path = directory + "/journal.jsonl"
    if let line = try Journal.verifyChain(path: path) {
      throw ReportError(
        "journal.jsonl:\(line) does not match its digest chain; a broken run is not signed")
    }
    guard let run = Journal.readRunRecord(path: path) else {
      throw ReportError("\(directory) is not a run directory (no journal with a run record)")
    }
    return (run.runID, try Journal.finalDigest(path: path))
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
    let digests = Journal.chainDigests(path: directory + "/journal.jsonl")
    let text = String(decoding: data, as: UTF8.self)
    let matches = digests.contains { text == statement(runID: run.runID, digest: $0) }
    return matches
      ? []
      : [
        RunDirectory.Mismatch(
          file: fileName, problem: "does not name this run and a state of its journal")
      ]
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
  /// half is in the agent); writes `signature.txt` and `signature.txt.sig`.
  public static func sign(
    directory: String, key: String, runner: any CommandRunning = SubprocessRunner()
  ) async throws {
    let (runID, digest) = try journalState(directory)
    let statement = directory + "/" + fileName
    try PrivateFile.write(Data(Self.statement(runID: runID, digest: digest).utf8), to: statement)
    try? FileManager.default.removeItem(atPath: directory + "/" + signatureName)
    let errors = LineBuffer()
    let outcome = await runner.run(
      ProcessCommand("ssh-keygen", ["-q", "-Y", "sign", "-f", key, "-n", namespace, statement]),
      input: "", timeout: .seconds(60), stdout: { _ in }, stderr: { errors.append($0) })
    guard outcome.succeeded else {
      try? FileManager.default.removeItem(atPath: statement)
      throw ReportError(
        "ssh-keygen could not sign with \(key): \(errors.firstLine ?? "exit \(outcome.exitStatus ?? -1)")"
      )
    }
    _ = chmod(directory + "/" + signatureName, 0o600)
  }

  /// Checks the signature against `allowedSigners` (the format of git's
  /// `gpg.ssh.allowedSignersFile`): it must be valid for `signer` (or for any principal the
  /// file lists for that key), and what it signs must be this journal's final digest.
  public static func verify(
    directory: String, allowedSigners: String, signer: String?,
    runner: any CommandRunning = SubprocessRunner()
  ) async -> [RunDirectory.Mismatch] {
    let statementPath = directory + "/" + fileName
    let signaturePath = directory + "/" + signatureName
    guard FileManager.default.fileExists(atPath: signaturePath),
      let statement = FileManager.default.contents(atPath: statementPath)
    else {
      return [RunDirectory.Mismatch(file: signatureName, problem: "missing: the run is not signed")]
    }
    guard let (runID, digest) = try? journalState(directory) else {
      return [
        RunDirectory.Mismatch(
          file: "journal.jsonl", problem: "cannot be checked against the signature")
      ]
    }
    var problems: [RunDirectory.Mismatch] = []
    if statement != Data(Self.statement(runID: runID, digest: digest).utf8) {
      problems.append(
        RunDirectory.Mismatch(
          file: fileName,
          problem:
            "signs another journal state than this one (records were added, removed or recomputed after signing)"
        ))
    }
    var principals = signer.map { [$0] } ?? []
    if principals.isEmpty {
      let found = LineBuffer()
      _ = await runner.run(
        ProcessCommand(
          "ssh-keygen", ["-Y", "find-principals", "-s", signaturePath, "-f", allowedSigners]),
        input: "", timeout: .seconds(30), stdout: { found.append($0) }, stderr: { _ in })
      principals = found.firstLine.map { [$0] } ?? []
    }
    guard let principal = principals.first else {
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
      input: String(decoding: statement, as: UTF8.self), timeout: .seconds(30), stdout: { _ in },
      stderr: { errors.append($0) })
    if !outcome.succeeded {
      problems.append(
        RunDirectory.Mismatch(
          file: signatureName,
          problem:
            "is not a valid signature by \(principal): \(errors.firstLine ?? "ssh-keygen refused it")"
        ))
    }
    return problems
  }
}
