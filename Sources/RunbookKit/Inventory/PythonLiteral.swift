import Foundation

/// Python's `ast.literal_eval` for the values Ansible's INI inventory reads: numbers,
/// quoted strings, `True`/`False`/`None`, lists, tuples and dicts.
///
/// Ansible keeps the text as a string when literal_eval fails, so `nil` means "a string".
enum PythonLiteral {
  static func evaluate(_ text: String) -> Value? {
    var parser = Parser(Array(text.unicodeScalars))
    parser.skipSpace()
    guard let value = parser.expression() else { return nil }
    parser.skipSpace()
    return parser.atEnd ? value : nil
  }

  private struct Parser {
    let s: [Unicode.Scalar]
    var i = 0
    /// Brackets open now. CPython's tokenizer refuses more than 200 ("too many nested
    /// parentheses"), so Ansible keeps such a value as a string; so does this parser,
    /// without recursing any deeper.
    var depth = 0
    static let maximumDepth = 200
    init(_ s: [Unicode.Scalar]) { self.s = s }

    var atEnd: Bool { i >= s.count }
    var peek: Unicode.Scalar? { i < s.count ? s[i] : nil }

    mutating func skipSpace() {
      while let c = peek, c == " " || c == "\t" { i += 1 }
    }

    mutating func expression() -> Value? {
      skipSpace()
      guard let c = peek else { return nil }
      if c == "[" || c == "(" || c == "{" {
        guard depth < Self.maximumDepth else { return nil }
        depth += 1
        defer { depth -= 1 }
        return c == "{" ? mapping() : sequence(close: c == "[" ? "]" : ")")
      }
      switch c {
      case "'", "\"":
        var text = ""
        // Adjacent literals concatenate, as in Python source.
        while let q = peek, q == "'" || q == "\"" {
          guard let part = string() else { return nil }
          text += part
          skipSpace()
        }
        return .string(text)
      case "-", "+":
        i += 1
        skipSpace()
        guard let operand = number() else { return nil }
        if c == "+" { return operand }
        switch operand {
        case .int(let n): return .int(-n)
        case .double(let d): return .double(-d)
        default: return nil
        }
      default:
        if c.properties.numericType != nil || c == "." { return number() }
        let word = identifier()
        switch word {
        case "True": return .bool(true)
        case "False": return .bool(false)
        case "None": return .null
        default: return nil
        }
      }
    }

    mutating func identifier() -> String {
      var word = ""
      while let c = peek, c.properties.isAlphabetic || c == "_" || ("0"..."9").contains(c) {
        word.unicodeScalars.append(c)
        i += 1
      }
      return word
    }

    mutating func number() -> Value? {
      var text = ""
      while let c = peek, c.isASCII,
        ("0"..."9").contains(c) || ("a"..."z").contains(c) || ("A"..."Z").contains(c) || c == "."
          || c == "_" || ((c == "+" || c == "-") && (text.last == "e" || text.last == "E"))
      {
        text.unicodeScalars.append(c)
        i += 1
      }
      if text.contains("__") || text.hasSuffix("_") || text.hasPrefix("_") { return nil }
      let clean = text.replacingOccurrences(of: "_", with: "")
      let lower = clean.lowercased()
      for (prefix, radix) in [("0x", 16), ("0o", 8), ("0b", 2)] where lower.hasPrefix(prefix) {
        return Int(lower.dropFirst(2), radix: radix).map(Value.int)
      }
      if clean.allSatisfy({ ("0"..."9").contains($0) }) {
        // Python rejects leading zeros on non-zero integers ("010" is a syntax error).
        if clean.count > 1, clean.hasPrefix("0"), clean.contains(where: { $0 != "0" }) {
          return nil
        }
        return Int(clean).map(Value.int)
      }
      if lower.hasSuffix("j") { return nil }
      guard
        lower.allSatisfy({
          ("0"..."9").contains($0) || $0 == "." || $0 == "e" || $0 == "+" || $0 == "-"
        }),
        let d = Double(clean)
      else { return nil }
      return .double(d)
    }

    mutating func string() -> String? {
      guard let quote = peek else { return nil }
      i += 1
      var out = ""
      while let c = peek {
        i += 1
        if c == quote { return out }
        if c == "\\" {
          guard let e = peek else { return nil }
          i += 1
          switch e {
          case "n": out += "\n"
          case "t": out += "\t"
          case "r": out += "\r"
          case "\\": out += "\\"
          case "'": out += "'"
          case "\"": out += "\""
          case "0": out += "\0"
          default:
            out += "\\"
            out.unicodeScalars.append(e)
          }
        } else {
          out.unicodeScalars.append(c)
        }
      }
      return nil
    }

    mutating func sequence(close: Unicode.Scalar) -> Value? {
      i += 1
      var items: [Value] = []
      while true {
        skipSpace()
        if peek == close {
          i += 1
          return .list(items)
        }
        guard let item = expression() else { return nil }
        items.append(item)
        skipSpace()
        if peek == "," {
          i += 1
        } else if peek != close {
          return nil
        }
      }
    }

    mutating func mapping() -> Value? {
      i += 1
      var dict: [String: Value] = [:]
      var isSet = false
      var setItems: [Value] = []
      while true {
        skipSpace()
        if peek == "}" {
          i += 1
          return isSet ? .list(setItems) : .map(dict)
        }
        guard let key = expression() else { return nil }
        skipSpace()
        if peek == ":" {
          i += 1
          guard let value = expression() else { return nil }
          dict[key.rendered] = value
        } else {
          isSet = true
          setItems.append(key)
        }
        skipSpace()
        if peek == "," { i += 1 } else if peek != "}" { return nil }
      }
    }
  }
}
