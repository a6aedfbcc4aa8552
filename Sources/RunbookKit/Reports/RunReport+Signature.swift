import Foundation

/// The signature as both reports state it: signed or not, by whom, with which key, and
/// what it covers — said so that a reader does not take more for signed than is.
extension RunReport {
  /// Whether a signature names this journal's current state (by a key the files name).
  var isSigned: Bool {
    guard case .signed(let seal) = signature else { return false }
    return seal.record != nil && seal.uncovered == 0 && seal.key != nil && seal.valid != false
  }

  /// The principal the signature names, when the run is signed and names one.
  var signer: String? {
    guard case .signed(let seal) = signature else { return nil }
    return seal.statement.signer
  }

  /// The audit table's signature entry; `code` marks names and digests as the report
  /// marks code (and escapes them).
  func signatureText(code: (String) -> String) -> String {
    switch signature {
    case .unsigned:
      return "not signed (\(code("runbook sign DIR --key KEY")) signs it with an ssh key)"
    case .unreadable(let why):
      return "a signature is present but cannot be read: \(why)"
    case .signed(let seal) where seal.valid == false:
      return
        "a signature file is present, but it does not sign this run's statement with the key it names: not signed"
    case .signed(let seal):
      // An ed25519 or ECDSA P-256 signature is checked here; whether its key is one the auditor trusts,
      // only verify --allowed-signers can say, and the text says so.
      var text =
        seal.statement.signer.map { "signed, naming \(code($0)) as its signer," }
        ?? "signed, naming no signer,"
      text +=
        seal.key.map { " with the \(code($0.type)) key \(code($0.fingerprint))" }
        ?? " (the signature file is not an ssh signature)"
      text +=
        seal.valid == true
        ? " (a valid signature by that key)"
        : " (this report checks ed25519 and ECDSA P-256 signatures, not this one's)"
      guard let record = seal.record else {
        return text
          + ". It signs a journal state this run no longer has: the journal was rewritten after signing."
      }
      text +=
        ". It covers the journal through record \(record) (digest \(code(String(seal.statement.journalDigest.prefix(16)) + "…"))): the run and attempt records, every step record with its output, and, by their SHA-256, every log and runbook snapshot."
      if seal.uncovered > 0 {
        text +=
          " The \(seal.uncovered) records after it (added after signing, as a resume adds them) are not covered: sign the run again."
      }
      return text
        + " The reports are renderings of that journal and are not signed themselves. Whether the key is one you trust, "
        + code("runbook verify DIR --allowed-signers FILE")
        + " says."
    }
  }
}
