import Foundation

extension RunSignature {
  /// What a signature signs, as `signature.txt` holds it: the run, a state of its journal,
  /// and the principal the signer names.
  ///
  /// Version 2 signs the digest of the journal's last record that is not a reports record.
  /// Reports records only say which rendering of the journal the report files are, so
  /// re-rendering the reports after signing (or signing, then rendering the reports that
  /// show the signature) keeps the signature valid. Version 1 signed the final digest,
  /// reports records included; it is still read.
  public struct Statement: Sendable, Equatable {
    /// 1 or 2.
    public var version: Int
    /// The run's id.
    public var runID: String
    /// The digest of the journal record the signature covers, and every record before it.
    public var journalDigest: String
    /// The principal the signer names (as an allowed-signers file names keys); nil when
    /// none was given and the operator's identity has no e-mail address.
    public var signer: String?

    /// A statement of this version.
    public init(runID: String, journalDigest: String, signer: String?, version: Int = 2) {
      self.version = version
      self.runID = runID
      self.journalDigest = journalDigest
      self.signer = signer
    }

    /// The statement's text, as it is signed.
    public var text: String {
      var text =
        "runbook run signature v\(version)\nrun: \(runID)\njournal-digest: \(journalDigest)\n"
      if let signer { text += "signer: \(signer)\n" }
      return text
    }

    /// The statement `text` holds; nil unless it is one, written exactly as `text` writes
    /// it (so nothing unread is signed).
    public static func parse(_ text: String) -> Statement? {
      let lines = text.split(separator: "\n")
      let prefix = "runbook run signature v"
      guard let first = lines.first, first.hasPrefix(prefix),
        let version = Int(first.dropFirst(prefix.count)), [1, 2].contains(version)
      else { return nil }
      var fields: [String: String] = [:]
      for line in lines.dropFirst() {
        guard let colon = line.range(of: ": ") else { return nil }
        fields[String(line[..<colon.lowerBound])] = String(line[colon.upperBound...])
      }
      guard let run = fields["run"], let digest = fields["journal-digest"],
        fields["signer"].map(OperatorIdentity.isPrincipal) ?? true
      else { return nil }
      let statement = Statement(
        runID: run, journalDigest: digest, signer: fields["signer"], version: version)
      return statement.text == text ? statement : nil
    }
  }

  /// A run's signature as the reports show it.
  public enum State: Sendable, Equatable {
    /// No signature file.
    case unsigned
    /// A signature whose statement and key could be read.
    case signed(Seal)
    /// Signature files that cannot be read as one; why.
    case unreadable(String)
  }

  /// What a readable signature says and covers.
  public struct Seal: Sendable, Equatable {
    /// The signed statement.
    public var statement: Statement
    /// The key the signature names (nil: the signature file is not an ssh signature).
    public var key: SSHSignatureKey?
    /// The 1-based journal record whose digest is signed; nil when the journal never had
    /// that state (it was rewritten after signing).
    public var record: Int?
    /// The records after the signed one that the signature does not cover (a resume after
    /// signing added them); reports records do not count.
    public var uncovered: Int
    /// Whether the signature signs the statement with the key it names: checked here for
    /// ed25519 and ECDSA P-256 keys, nil for others (whether the key is trusted, only
    /// `verify` says).
    public var valid: Bool? = nil
  }

  /// The signature state of a run directory whose journal's lines are `records` (each
  /// line's digest, and whether it is a reports record).
  static func state(directory: String, records: [(digest: String, isReports: Bool)]) -> State {
    let manager = FileManager.default
    let statementData = manager.contents(atPath: directory + "/" + fileName)
    let signatureData = manager.contents(atPath: directory + "/" + signatureName)
    if statementData == nil, signatureData == nil { return .unsigned }
    guard let statementData, let signatureData else {
      return .unreadable(
        "\(statementData == nil ? fileName : signatureName) is missing beside the other")
    }
    guard let statement = Statement.parse(String(decoding: statementData, as: UTF8.self)) else {
      return .unreadable("\(fileName) is not a runbook signature statement")
    }
    let signed = records.firstIndex { $0.digest == statement.journalDigest }
    let key = SSHSignatureKey(armored: String(decoding: signatureData, as: UTF8.self))
    return .signed(
      Seal(
        statement: statement, key: key, record: signed.map { $0 + 1 },
        uncovered: signed.map { records[($0 + 1)...].count { !$0.isReports } } ?? 0,
        valid: key?.signs(statementData, namespace: namespace)))
  }
}
