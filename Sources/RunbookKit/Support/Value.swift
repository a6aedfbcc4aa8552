import Foundation

/// A typed variable value, as YAML or Ansible's INI value typing produce it.
public enum Value: Sendable, Hashable {
  /// A string.
  case string(String)
  /// A whole number.
  case int(Int)
  /// A floating-point number.
  case double(Double)
  /// `true` or `false`.
  case bool(Bool)
  /// YAML's `null` / Python's `None`.
  case null
  /// A list.
  case list([Value])
  /// A mapping; keys are strings.
  case map([String: Value])

  /// The text a template substitutes for the value: scalars as written, lists as
  /// space-separated items (ready for a shell `for` loop), mappings as JSON.
  public var rendered: String {
    switch self {
    case .string(let s): return s
    case .int(let i): return String(i)
    case .double(let d): return Value.formatDouble(d)
    case .bool(let b): return b ? "true" : "false"
    case .null: return ""
    case .list(let items): return items.map(\.rendered).joined(separator: " ")
    case .map: return json(indent: nil)
    }
  }

  /// The value as JSON, keys sorted as `json.dumps(sort_keys=True)` writes them.
  ///
  /// With `indent`, the layout is Python's `json.dumps(indent=N)`, so output can be
  /// compared with `ansible-inventory` line for line.
  public func json(indent: Int?) -> String {
    var out = ""
    writeJSON(into: &out, indent: indent, level: 0)
    return out
  }

  func writeJSON(into out: inout String, indent: Int?, level: Int) {
    switch self {
    case .string(let s): Value.writeJSONString(s, into: &out)
    case .int(let i): out += String(i)
    case .double(let d):
      if d.isNaN {
        out += "NaN"
      } else if d.isInfinite {
        out += d < 0 ? "-Infinity" : "Infinity"
      } else {
        out += Value.formatDouble(d)
      }
    case .bool(let b): out += b ? "true" : "false"
    case .null: out += "null"
    case .list(let items):
      Value.writeContainer(
        open: "[", close: "]", count: items.count, into: &out, indent: indent, level: level
      ) { i, out in
        items[i].writeJSON(into: &out, indent: indent, level: level + 1)
      }
    case .map(let dict):
      let keys = dict.keys.sorted()
      Value.writeContainer(
        open: "{", close: "}", count: keys.count, into: &out, indent: indent, level: level
      ) { i, out in
        Value.writeJSONString(keys[i], into: &out)
        out += ": "
        dict[keys[i]]!.writeJSON(into: &out, indent: indent, level: level + 1)
      }
    }
  }

  static func writeContainer(
    open: String, close: String, count: Int, into out: inout String, indent: Int?, level: Int,
    item: (Int, inout String) -> Void
  ) {
    guard count > 0 else {
      out += open + close
      return
    }
    out += open
    for i in 0..<count {
      if let indent {
        out += "\n" + String(repeating: " ", count: indent * (level + 1))
      }
      item(i, &out)
      if i < count - 1 { out += indent == nil ? ", " : "," }
    }
    if let indent { out += "\n" + String(repeating: " ", count: indent * level) }
    out += close
  }

  /// Python's `repr` of a float, which is what Ansible prints.
  static func formatDouble(_ d: Double) -> String {
    if d == d.rounded(), abs(d) < 1e16 { return String(format: "%.1f", d) }
    return "\(d)"
  }

  /// Writes a JSON string with `ensure_ascii=False` escaping (only what JSON requires).
  public static func writeJSONString(_ s: String, into out: inout String) {
    out += "\""
    var bytes: [UInt8] = []
    var runStart = s.utf8.startIndex
    var escaped = false
    // Escapes are found and written on bytes; the text between them is copied in runs.
    for index in s.utf8.indices {
      let byte = s.utf8[index]
      guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else {
        continue
      }
      if !escaped {
        bytes.reserveCapacity(s.utf8.count + 16)
        escaped = true
      }
      bytes += s.utf8[runStart..<index]
      switch byte {
      case UInt8(ascii: "\""): bytes += [0x5C, 0x22]
      case UInt8(ascii: "\\"): bytes += [0x5C, 0x5C]
      case 0x0A: bytes += [0x5C, UInt8(ascii: "n")]
      case 0x0D: bytes += [0x5C, UInt8(ascii: "r")]
      case 0x09: bytes += [0x5C, UInt8(ascii: "t")]
      case 0x08: bytes += [0x5C, UInt8(ascii: "b")]
      case 0x0C: bytes += [0x5C, UInt8(ascii: "f")]
      default: bytes += Array(String(format: "\\u%04x", byte).utf8)
      }
      runStart = s.utf8.index(after: index)
    }
    if escaped {
      bytes += s.utf8[runStart...]
      out += String(decoding: bytes, as: UTF8.self)
    } else {
      out += s
    }
    out += "\""
  }

}
