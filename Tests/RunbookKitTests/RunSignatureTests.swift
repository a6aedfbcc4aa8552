import Foundation
import Testing

@testable import RunbookKit

/// The pieces of a run's signature that need no process: the statement's form, the key a
/// signature file names, and how much of a journal a statement covers.
@Suite struct RunSignatureTests {
  /// Signatures made by `ssh-keygen -Y sign -n runbook-run` with three kinds of key; the
  /// fingerprints are what `ssh-keygen -lf` printed for their public keys.
  @Test(arguments: [
    ("ed25519.sig", "ED25519", "SHA256:gMpM5Nhuf1A1yzJsREpylWbFF22fXFs9cjzFwxCZUZ4"),
    ("rsa.sig", "RSA", "SHA256:q11GW/mYbJiG7Zh+m2vbBkdrT3aOzu5WYjyJojFbnN0"),
    ("ecdsa.sig", "ECDSA", "SHA256:R5aVF8ZOvZMpUWz80Wipj/hlxGGeuoJoZ5xQShCQIFw"),
  ])
  func theKeyOfASignatureIsReadAsSSHKeygenNamesIt(file: String, type: String, fingerprint: String)
    throws
  {
    let key = try #require(
      SSHSignatureKey(armored: try Fixtures.text("signatures/" + file)))
    #expect(key.type == type)
    #expect(key.fingerprint == fingerprint)
  }

  /// The fixtures sign "x\n" in runbook's namespace: ed25519 and ECDSA P-256 signatures are
  /// checked here, as `ssh-keygen -Y check-novalidate` checks them; RSA ones are not.
  @Test func aSignatureIsCheckedAgainstWhatItSigns() throws {
    let key = try #require(SSHSignatureKey(armored: try Fixtures.text("signatures/ed25519.sig")))
    #expect(key.signs(Data("x\n".utf8), namespace: "runbook-run") == true)
    #expect(key.signs(Data("y\n".utf8), namespace: "runbook-run") == false)
    #expect(key.signs(Data("x\n".utf8), namespace: "git") == false)
    let ecdsa = try #require(SSHSignatureKey(armored: try Fixtures.text("signatures/ecdsa.sig")))
    #expect(ecdsa.signs(Data("x\n".utf8), namespace: "runbook-run") == true)
    #expect(ecdsa.signs(Data("y\n".utf8), namespace: "runbook-run") == false)
    let rsa = try #require(SSHSignatureKey(armored: try Fixtures.text("signatures/rsa.sig")))
    #expect(rsa.signs(Data("x\n".utf8), namespace: "runbook-run") == nil)
  }

  @Test func whatIsNotASignatureNamesNoKey() throws {
    let good = try Fixtures.text("signatures/ed25519.sig")
    #expect(SSHSignatureKey(armored: "") == nil)
    #expect(
      SSHSignatureKey(armored: good.replacingOccurrences(of: "SSH SIGNATURE", with: "PGP")) == nil)
    // Cut short: the key's length runs past the end.
    let lines = good.split(separator: "\n")
    let short = [lines[0], lines[1].prefix(20), lines.last!].joined(separator: "\n")
    #expect(SSHSignatureKey(armored: String(short)) == nil)
  }

  @Test func aStatementIsReadOnlyInTheFormItIsWritten() {
    let statement = RunSignature.Statement(
      runID: "run-1", journalDigest: String(repeating: "a", count: 64), signer: "ada@example.com")
    #expect(statement.text.hasPrefix("runbook run signature v2\nrun: run-1\n"))
    #expect(RunSignature.Statement.parse(statement.text) == statement)
    let unsigned = RunSignature.Statement(runID: "r", journalDigest: "d", signer: nil)
    #expect(RunSignature.Statement.parse(unsigned.text) == unsigned)
    // Version 1, from before reports could be rendered after signing.
    let old = "runbook run signature v1\nrun: r\njournal-digest: d\n"
    #expect(RunSignature.Statement.parse(old)?.version == 1)
    // Anything more, less or else is not a statement: nothing unread is signed.
    for text in [
      statement.text + "note: more\n", statement.text + "\n",
      "runbook run signature v3\nrun: r\njournal-digest: d\n",
      "run: r\njournal-digest: d\n", "runbook run signature v2\nrun: r\n",
      "runbook run signature v2\nrun: r\njournal-digest: d\nsigner: -oProxyCommand=x\n",
      "runbook run signature v2\nrun: r\njournal-digest: d\nsigner: a b\n",
    ] {
      #expect(RunSignature.Statement.parse(text) == nil, "\(text)")
    }
  }

  @Test func aStatementCoversTheJournalUpToItsReportsRecords() {
    let state = RunSignature.JournalState(
      run: RunRecord(
        runID: "run-1", runbook: "r.md", title: "R", runbookSHA256: "", inventory: nil,
        inventorySHA256: nil, operatorName: "Ada", toolVersion: "0", startedAt: "", variables: [:],
        stepCount: 0, hosts: [], dryRun: false, resumes: nil, selectedSteps: nil, attempt: 1),
      operatorName: "Ada",
      records: [("d1", false), ("d2", false), ("d3", false), ("r1", true), ("r2", true)])
    func problem(_ digest: String, run: String = "run-1") -> String? {
      RunSignature.coverage(
        of: .init(runID: run, journalDigest: digest, signer: nil), in: state)
    }
    #expect(problem("d3") == nil)
    // Version 1 signed the final digest, a reports record.
    #expect(problem("r1") == nil)
    #expect(
      problem("d2")?.contains("through record 2; records 3–3 were added after signing") == true)
    #expect(problem("x")?.contains("signs another journal state") == true)
    #expect(problem("d3", run: "run-2")?.contains("signs another journal state") == true)
  }

  /// A record slipped in after the signed one behind a CR (a CR LF is one `Character`, so a
  /// split on characters sees one line where the journal's reader sees two) breaks the
  /// chain, and any record after the signed one that is not a rendering is not covered.
  @Test func aRecordHiddenBehindACarriageReturnBreaksTheChain() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
      "runbook-crlf-\(UUID().uuidString.prefix(8))")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("journal.jsonl").path
    let (first, d1) = Journal.chain(body: Data(#"{"type":"run"}"#.utf8), after: Journal.genesis)
    let (hidden, _) = Journal.chain(body: Data(#"{"type":"step"}"#.utf8), after: d1)
    var forged = first
    forged.removeLast()  // its newline
    forged += Data("\r\n".utf8) + hidden
    try forged.write(to: URL(fileURLWithPath: path))
    #expect(try Journal.verifyChain(path: path) == 1)
  }

  @Test func theOperatorsAddressIsThePrincipal() {
    #expect(OperatorIdentity.principal(of: "Ada Lovelace <ada@example.com>") == "ada@example.com")
    #expect(OperatorIdentity.principal(of: "root@vm") == "root@vm")
    #expect(OperatorIdentity.principal(of: "Ada") == nil)
    #expect(OperatorIdentity.principal(of: "Ada <not an address>") == nil)
  }
}
