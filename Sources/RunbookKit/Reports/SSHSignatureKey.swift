import Crypto
import Foundation

/// The public key an ssh signature names (the armored `SSHSIG` that `ssh-keygen -Y sign`
/// writes), read from the file without starting a process: what the reports show as the
/// signer's key. Whether the key is one the auditor trusts is `verify --allowed-signers`'s
/// question, not this one's.
public struct SSHSignatureKey: Sendable, Equatable {
  /// The key's type as `ssh-keygen -l` names it (`ED25519`, `RSA`, `ECDSA`, `ED25519-SK`).
  public var type: String
  /// `SHA256:` and the unpadded base64 of the key blob's SHA-256, as `ssh-keygen -l` prints.
  public var fingerprint: String
  /// What the signature says it signs with, to check it without a process (ed25519).
  private var publicKey: Data
  private var namespace: String
  private var reserved: Data
  private var hashAlgorithm: String
  private var signature: Data

  /// The key of an armored signature; nil when the text is not one.
  public init?(armored text: String) {
    let body = text.split(whereSeparator: \.isNewline)
      .filter { !$0.hasPrefix("-----") }
      .joined()
    guard text.contains("-----BEGIN SSH SIGNATURE-----"),
      let data = Data(base64Encoded: body), data.starts(with: Array("SSHSIG".utf8))
    else { return nil }
    var reader = WireReader(data: data.dropFirst(6))
    guard reader.uint32() != nil, let blob = reader.string(),
      let kind = WireReader(data: blob[...]).firstString(),
      let namespace = reader.string(), let reserved = reader.string(),
      let hash = reader.string(), let signature = reader.string()
    else { return nil }
    type = Self.typeName(String(decoding: kind, as: UTF8.self))
    publicKey = blob
    self.namespace = String(decoding: namespace, as: UTF8.self)
    self.reserved = reserved
    hashAlgorithm = String(decoding: hash, as: UTF8.self)
    self.signature = signature
    fingerprint =
      "SHA256:"
      + Data(SHA256.hash(data: blob)).base64EncodedString().replacingOccurrences(of: "=", with: "")
  }

  /// Whether the signature signs `message` in `namespace` with the key it names: true or
  /// false for an ed25519 or ECDSA P-256 key (checked here, as `ssh-keygen -Y
  /// check-novalidate` checks it), nil for a key type this does not check. Whether the key
  /// is trusted is another question (`verify --allowed-signers`).
  public func signs(_ message: Data, namespace expected: String) -> Bool? {
    var keyReader = WireReader(data: publicKey[...])
    let kind = keyReader.string()
    guard kind == Data("ssh-ed25519".utf8) || kind == Data("ecdsa-sha2-nistp256".utf8) else {
      return nil
    }
    var signatureReader = WireReader(data: signature[...])
    guard namespace == expected, signatureReader.string() == kind,
      let raw = signatureReader.string(), let signed = signedData(message)
    else { return false }
    if kind == Data("ssh-ed25519".utf8) {
      guard let key = keyReader.string(),
        let verifier = try? Curve25519.Signing.PublicKey(rawRepresentation: key)
      else { return false }
      return verifier.isValidSignature(raw, for: signed)
    }
    // ECDSA: the key is the curve's name and its point; the signature two mpints, r and s.
    var point = keyReader
    _ = point.string()
    var numbers = WireReader(data: raw[...])
    guard let q = point.string(), let r = numbers.string(), let s = numbers.string(),
      let verifier = try? P256.Signing.PublicKey(x963Representation: q),
      let signature = try? P256.Signing.ECDSASignature(
        rawRepresentation: Self.fixed(r, 32) + Self.fixed(s, 32))
    else { return false }
    return verifier.isValidSignature(signature, for: signed)
  }

  /// An SSH mpint (big-endian, a leading zero byte when the high bit is set) as exactly
  /// `count` bytes.
  private static func fixed(_ number: Data, _ count: Int) -> Data {
    let digits = number.drop { $0 == 0 }
    return Data(repeating: 0, count: max(0, count - digits.count)) + digits.suffix(count)
  }

  /// What an SSHSIG signature signs for `message` (PROTOCOL.sshsig): the preamble, then
  /// namespace, reserved, hash algorithm and the message's hash as SSH strings.
  private func signedData(_ message: Data) -> Data? {
    let digest: Data
    switch hashAlgorithm {
    case "sha512": digest = Data(SHA512.hash(data: message))
    case "sha256": digest = Data(SHA256.hash(data: message))
    default: return nil
    }
    var signed = Data("SSHSIG".utf8)
    for field in [Data(namespace.utf8), reserved, Data(hashAlgorithm.utf8), digest] {
      signed += Self.wireString(field)
    }
    return signed
  }

  /// `data` as an SSH string: its length as four big-endian bytes, then itself.
  private static func wireString(_ data: Data) -> Data {
    let n = UInt32(data.count)
    return Data([UInt8(n >> 24), UInt8(n >> 16 & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n & 0xFF)])
      + data
  }

  /// The short name of a key type, from its wire name.
  static func typeName(_ wire: String) -> String {
    switch wire {
    case "ssh-ed25519": "ED25519"
    case "ssh-rsa": "RSA"
    case "ssh-dss": "DSA"
    case "sk-ssh-ed25519@openssh.com": "ED25519-SK"
    case let name where name.hasPrefix("sk-ecdsa-"): "ECDSA-SK"
    case let name where name.hasPrefix("ecdsa-sha2-"): "ECDSA"
    // The file's own bytes never reach a report as they are.
    default: "unknown-type"
    }
  }

  /// The SSH wire format's big-endian lengths and length-prefixed strings (RFC 4251).
  private struct WireReader {
    var data: Data.SubSequence

    mutating func uint32() -> UInt32? {
      guard data.count >= 4 else { return nil }
      let value = data.prefix(4).reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
      data = data.dropFirst(4)
      return value
    }

    mutating func string() -> Data? {
      guard let length = uint32(), data.count >= Int(length) else { return nil }
      let value = Data(data.prefix(Int(length)))
      data = data.dropFirst(Int(length))
      return value
    }

    func firstString() -> Data? {
      var copy = self
      return copy.string()
    }
  }
}
