import Crypto
import Foundation

/// The run's secret key, for hashes of scripts that hold secrets: a plain SHA-256 of such a
/// script would let anyone who reads the journal try every short secret (a PIN) until the
/// hash matches. The key is kept out of the run directory, in the operator's own state
/// directory (`$XDG_STATE_HOME/runbook/keys`, else `~/.local/state/runbook/keys`, 0700),
/// one file per run (0600), so `--resume` on the same machine finds it again.
public struct RunKey: Sendable {
  /// The key's bytes (kept as bytes: `SymmetricKey` is not `Sendable`).
  let bytes: [UInt8]

  /// The directory holding run keys.
  public static var directory: String {
    let environment = ProcessInfo.processInfo.environment
    let base =
      environment["XDG_STATE_HOME"].flatMap { $0.isEmpty ? nil : $0 }
      ?? ((environment["HOME"] ?? NSHomeDirectory()) + "/.local/state")
    return base + "/runbook/keys"
  }

  /// The key of the run whose state token is `token`: read when it exists, else made.
  public static func load(token: String) throws -> RunKey {
    let folder = directory
    try FileManager.default.createDirectory(
      atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    let path = folder + "/" + token
    if let data = FileManager.default.contents(atPath: path), data.count == 32 {
      return RunKey(bytes: Array(data))
    }
    let fresh = SymmetricKey(size: .bits256)
    let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
    guard fd >= 0 else { throw RunDirectoryError("cannot create the run key \(path)") }
    defer { close(fd) }
    let written = fresh.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    guard written == 32 else { throw RunDirectoryError("cannot write the run key \(path)") }
    return RunKey(bytes: fresh.withUnsafeBytes { Array($0) })
  }

  /// `hmac-sha256:` and the keyed hash of `data`.
  public func hash(_ data: Data) -> String {
    "hmac-sha256:"
      + Digest.hex(HMAC<SHA256>.authenticationCode(for: data, using: SymmetricKey(data: bytes)))
  }
}
