import Foundation

/// Values captured so far, per host, and the masker that hides secret ones.
actor RunState {
  private(set) var masker: SecretMasker
  private let secretNames: Set<String>
  private var values: [String: [String: String]] = [:]
  /// The latest value of each name on any host, for hosts that did not run the capture.
  private var latest: [String: String] = [:]

  init(masker: SecretMasker, secretNames: Set<String>) {
    self.masker = masker
    self.secretNames = secretNames
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
