import Foundation

/// Reads what a shell prints to be read back (`declare -p`, `set`, `export -p`): words made
/// of unquoted, single-quoted, double-quoted and `$'…'` parts, as bytes, so that a value
/// bash prints as octal escapes comes back byte for byte.
struct ShellWordReader {
  private let bytes: [UInt8]
  /// Where reading goes on.
  private(set) var offset = 0

  init(_ text: String) { bytes = Array(text.utf8) }

  init(_ bytes: ArraySlice<UInt8>) { self.bytes = Array(bytes) }

  /// What is left to read.
  var rest: ArraySlice<UInt8> { bytes[offset...] }

  var atEnd: Bool { offset >= bytes.count }

  /// The next byte, without taking it.
  var next: UInt8? { atEnd ? nil : bytes[offset] }

  /// Takes `text` when it comes next.
  mutating func take(_ text: String) -> Bool {
    let needle = Array(text.utf8)
    guard bytes.count - offset >= needle.count,
      Array(bytes[offset..<offset + needle.count]) == needle
    else { return false }
    offset += needle.count
    return true
  }

  /// Skips spaces and tabs (not line ends).
  mutating func skipBlanks() {
    while let byte = next, byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") { offset += 1 }
  }

  /// The rest of the line, and its end.
  mutating func line() -> String {
    let start = offset
    while let byte = next, byte != UInt8(ascii: "\n") { offset += 1 }
    let text = String(decoding: bytes[start..<offset], as: UTF8.self)
    if !atEnd { offset += 1 }
    return text
  }

  /// Bytes up to (not including) the first of `stops`, unquoted.
  mutating func plain(until stops: Set<UInt8>) -> String {
    let start = offset
    while let byte = next, !stops.contains(byte) { offset += 1 }
    return String(decoding: bytes[start..<offset], as: UTF8.self)
  }

  /// The text from `start` to where reading is.
  func text(from start: Int) -> String {
    String(decoding: bytes[start..<offset], as: UTF8.self)
  }

  /// One word, its quotes removed; it ends at an unquoted blank, line end, or `)`.
  mutating func word() -> String {
    var out: [UInt8] = []
    while let byte = next {
      switch byte {
      case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: ")"):
        return String(decoding: out, as: UTF8.self)
      case UInt8(ascii: "'"):
        offset += 1
        while let b = next, b != UInt8(ascii: "'") {
          out.append(b)
          offset += 1
        }
        offset += 1
      case UInt8(ascii: "\""):
        offset += 1
        doubleQuoted(into: &out)
      case UInt8(ascii: "$")
      where offset + 1 < bytes.count && bytes[offset + 1] == UInt8(ascii: "'"):
        offset += 2
        ansiC(into: &out)
      case UInt8(ascii: "\\"):
        offset += 1
        if let b = next {
          if b != UInt8(ascii: "\n") { out.append(b) }
          offset += 1
        }
      default:
        out.append(byte)
        offset += 1
      }
    }
    return String(decoding: out, as: UTF8.self)
  }

  private mutating func doubleQuoted(into out: inout [UInt8]) {
    let escapable: Set<UInt8> = Set("\\\"$`\n".utf8)
    while let b = next, b != UInt8(ascii: "\"") {
      offset += 1
      if b == UInt8(ascii: "\\"), let e = next, escapable.contains(e) {
        offset += 1
        if e != UInt8(ascii: "\n") { out.append(e) }
      } else {
        out.append(b)
      }
    }
    offset += 1
  }

  private static let simpleEscapes: [UInt8: UInt8] = [
    UInt8(ascii: "n"): 10, UInt8(ascii: "t"): 9, UInt8(ascii: "r"): 13, UInt8(ascii: "a"): 7,
    UInt8(ascii: "b"): 8, UInt8(ascii: "e"): 27, UInt8(ascii: "E"): 27, UInt8(ascii: "f"): 12,
    UInt8(ascii: "v"): 11, UInt8(ascii: "\\"): 92, UInt8(ascii: "'"): 39, UInt8(ascii: "\""): 34,
    UInt8(ascii: "?"): 63,
  ]

  /// A `$'…'` part: bash's escapes, of which it prints `\n`-like ones and octal bytes.
  private mutating func ansiC(into out: inout [UInt8]) {
    while let b = next, b != UInt8(ascii: "'") {
      offset += 1
      guard b == UInt8(ascii: "\\"), let e = next else {
        out.append(b)
        continue
      }
      offset += 1
      if let simple = Self.simpleEscapes[e] {
        out.append(simple)
      } else if (UInt8(ascii: "0")...UInt8(ascii: "7")).contains(e) {
        out.append(number(first: e, radix: 8, digits: 3))
      } else if e == UInt8(ascii: "x") {
        out.append(number(first: nil, radix: 16, digits: 2))
      } else if e == UInt8(ascii: "c"), let c = next {
        offset += 1
        out.append(c & 0x1f)
      } else {
        out += [b, e]
      }
    }
    offset += 1
  }

  /// Up to `digits` digits in `radix` (the first already taken when given), as a byte.
  private mutating func number(first: UInt8?, radix: Int, digits: Int) -> UInt8 {
    var text = first.map { String(UnicodeScalar($0)) } ?? ""
    while text.count < digits, let b = next, Int(String(UnicodeScalar(b)), radix: radix) != nil {
      text.append(Character(UnicodeScalar(b)))
      offset += 1
    }
    return UInt8(truncatingIfNeeded: Int(text, radix: radix) ?? 0)
  }
}
