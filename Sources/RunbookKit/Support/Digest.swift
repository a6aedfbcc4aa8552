import Crypto
import Foundation

/// SHA-256 as the lowercase hex the journal, logs and reports use.
enum Digest {
  /// The hex of a finished digest.
  static func hex<D: Sequence>(_ digest: D) -> String where D.Element == UInt8 {
    var out = ""
    out.reserveCapacity(64)
    for byte in digest {
      let digits = "0123456789abcdef".utf8
      out.unicodeScalars.append(
        UnicodeScalar(digits[digits.index(digits.startIndex, offsetBy: Int(byte >> 4))]))
      out.unicodeScalars.append(
        UnicodeScalar(digits[digits.index(digits.startIndex, offsetBy: Int(byte & 0x0F))]))
    }
    return out
  }

  /// `bytes` random bytes from the system's generator, hex: session keys, nonces, tokens.
  static func randomHex(_ bytes: Int) -> String {
    var generator = SystemRandomNumberGenerator()
    return hex((0..<bytes).map { _ in UInt8.random(in: 0...255, using: &generator) })
  }

  /// SHA-256 of `data`, hex.
  static func sha256(_ data: Data) -> String { hex(SHA256.hash(data: data)) }

  /// SHA-256 of a file's bytes, hex; nil when it cannot be read.
  static func sha256(file path: String) -> String? {
    FileManager.default.contents(atPath: path).map(sha256)
  }
}
