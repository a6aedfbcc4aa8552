/// A parsed `{{ variable }}` template, strict about names: every reference is known up front
/// so an undefined one is an error before anything runs.
///
/// Syntax: `{{ name }}`, `{{ a.b.c }}` (a key of a mapping, `host.address`,
/// `roles.db.address`), filters that encode a value for where it goes (`{{ pw | quote }}`,
/// see `Filter`), and `{{ "{{" }}` or `{{ '}}' }}` for literal braces. General-purpose
/// engines (Stencil, Mustache) render an unknown name as empty text, which is the wrong
/// default for commands run as root on production hosts.
public struct Template: Sendable, Equatable {
  /// A piece of a template.
  public enum Segment: Sendable, Equatable {
    /// Text copied as it is.
    case text(String)
    /// A reference to a variable, by its dotted path.
    case variable(Reference)
  }

  /// An encoding applied to a value where it is substituted, so that any value (quotes,
  /// `$`, backslashes, spaces, newlines) arrives as it is.
  public enum Filter: String, Sendable, Hashable, CaseIterable {
    /// One POSIX shell word: `'…'`, each `'` written `'\''`.
    case quote
    /// A standard SQL string literal (SQLite, PostgreSQL): `'…'`, each `'` doubled.
    case sql
    /// A MySQL/MariaDB string literal in the default mode, where `\` is an escape too.
    case mysql
    /// A URL component: everything but letters, digits and `-._~` percent-encoded (UTF-8).
    case url

    /// `value`, encoded.
    public func apply(_ value: String) -> String {
      switch self {
      case .quote:
        return "'" + ByteSearch.replacing(["'"], in: value, with: "'\\''") + "'"
      case .sql:
        return "'" + ByteSearch.replacing(["'"], in: value, with: "''") + "'"
      case .mysql:
        let escaped = ByteSearch.replacing(["\\"], in: value, with: "\\\\")
        return "'" + ByteSearch.replacing(["'"], in: escaped, with: "''") + "'"
      case .url:
        var out = ""
        for byte in value.utf8 {
          let c = Character(UnicodeScalar(byte))
          if byte < 0x80, c.isLetter || c.isNumber || "-._~".contains(c) {
            out.append(c)
          } else {
            out += String(format: "%%%02X", byte)
          }
        }
        return out
      }
    }

    /// Every form a value takes through one filter: a secret is masked in all of them.
    public static func encodedForms(of value: String) -> [String] {
      allCases.map { $0.apply(value) }
    }
  }

  /// A variable reference and where it is.
  public struct Reference: Sendable, Hashable {
    /// The dotted path, split (`["host", "address"]`).
    public let path: [String]
    /// The path as written, dots included.
    public let name: String
    /// The 0-based line within the template's text.
    public let lineOffset: Int
    /// Encodings applied to the value, in order.
    public let filters: [Filter]

    /// Creates a reference to `path` at a line of the template.
    public init(path: [String], lineOffset: Int, filters: [Filter] = []) {
      self.path = path
      self.name = path.joined(separator: ".")
      self.lineOffset = lineOffset
      self.filters = filters
    }

    /// `value` with the filters applied.
    public func encode(_ value: String) -> String {
      filters.reduce(value) { $1.apply($0) }
    }

    /// The reference as written (for a value still unknown).
    var written: String {
      "{{ " + ([name] + filters.map(\.rawValue)).joined(separator: " | ") + " }}"
    }
  }

  /// A syntax problem at a line of the template.
  public struct Problem: Error, Sendable, Equatable {
    /// The 0-based line within the template's text.
    public var lineOffset: Int
    /// What is wrong and how to write it.
    public var message: String
  }

  /// The pieces in order.
  public var segments: [Segment]

  /// Every variable reference, in order.
  public var references: [Reference] {
    segments.compactMap { if case .variable(let r) = $0 { return r } else { return nil } }
  }

  /// Whether the template is plain text.
  public var isConstant: Bool {
    !segments.contains { if case .variable = $0 { true } else { false } }
  }

  /// A template that is `text` with no substitution (for `raw` steps).
  public init(verbatim text: String) {
    segments = text.isEmpty ? [] : [.text(text)]
  }

  /// Parses `text`, collecting every syntax problem.
  public static func parse(_ text: String) -> (Template, [Problem]) {
    var segments: [Segment] = []
    var problems: [Problem] = []
    let bytes = Array(text.utf8)
    var literalStart = 0
    var i = 0
    var line = 0
    while i < bytes.count {
      let b = bytes[i]
      if b == UInt8(ascii: "\n") {
        line += 1
        i += 1
        continue
      }
      guard b == UInt8(ascii: "{"), i + 1 < bytes.count, bytes[i + 1] == UInt8(ascii: "{") else {
        i += 1
        continue
      }
      guard let close = closingBraces(in: bytes, from: i + 2) else {
        problems.append(
          Problem(
            lineOffset: line,
            message:
              "'{{' is not closed on its line; close it with '}}', or write {{ \"{{\" }} for literal braces"
          ))
        i += 2
        continue
      }
      if i > literalStart {
        appendText(String(decoding: bytes[literalStart..<i], as: UTF8.self), to: &segments)
      }
      let inner = String(decoding: bytes[(i + 2)..<close], as: UTF8.self).trimmingWhitespace()
      if let first = inner.first, first == "\"" || first == "'" {
        if inner.count >= 2, inner.last == first, !inner.dropFirst().dropLast().contains(first) {
          appendText(String(inner.dropFirst().dropLast()), to: &segments)
        } else {
          problems.append(
            Problem(lineOffset: line, message: "string literal \(inner) is not closed"))
        }
      } else {
        switch reference(inner, lineOffset: line) {
        case .success(let reference): segments.append(.variable(reference))
        case .failure(let problem): problems.append(problem)
        }
      }
      i = close + 2
      literalStart = i
    }
    if bytes.count > literalStart {
      appendText(String(decoding: bytes[literalStart...], as: UTF8.self), to: &segments)
    }
    return (Template(segments: segments), problems)
  }

  /// The position of the `}}` that closes a `{{` whose inside starts at `start`, outside
  /// quotes; `nil` when none does on the same line (templates never span lines).
  private static func closingBraces(in bytes: [UInt8], from start: Int) -> Int? {
    var j = start
    var quote: UInt8?
    while j < bytes.count, bytes[j] != UInt8(ascii: "\n") {
      let c = bytes[j]
      if let q = quote {
        if c == q { quote = nil }
      } else if c == UInt8(ascii: "\"") || c == UInt8(ascii: "'") {
        quote = c
      } else if c == UInt8(ascii: "}"), j + 1 < bytes.count, bytes[j + 1] == UInt8(ascii: "}") {
        return j
      }
      j += 1
    }
    return nil
  }

  /// Adds text, joined to the text before it so that text segments never follow each other.
  private static func appendText(_ text: String, to segments: inout [Segment]) {
    if case .text(let previous)? = segments.last {
      segments[segments.count - 1] = .text(previous + text)
    } else {
      segments.append(.text(text))
    }
  }

  /// The reference between `{{` and `}}`: `name | filter | filter`.
  private static func reference(_ inner: String, lineOffset: Int) -> Result<Reference, Problem> {
    let parts = inner.split(separator: "|", omittingEmptySubsequences: false).map {
      $0.trimmingWhitespace()
    }
    var filters: [Filter] = []
    var filterProblem: String?
    for part in parts.dropFirst() {
      if let filter = Filter(rawValue: part) {
        filters.append(filter)
      } else {
        filterProblem =
          "'\(part)' is not a filter; use quote (a shell word), sql (a standard SQL string), mysql (a MySQL/MariaDB string) or url (a URL component), as in {{ \(parts[0]) | quote }}"
      }
    }
    let name = parts[0]
    let path = name.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
    if let filterProblem, !name.isEmpty {
      return .failure(Problem(lineOffset: lineOffset, message: filterProblem))
    } else if name.isEmpty {
      return .failure(
        Problem(lineOffset: lineOffset, message: "empty '{{ }}'; name a variable inside"))
    } else if !isIdentifier(path[0]) || !path.dropFirst().allSatisfy(isKey) {
      return .failure(
        Problem(
          lineOffset: lineOffset,
          message:
            "'{{ \(inner) }}' is not a variable reference; write {{ name }}, {{ host.address }} or {{ name | quote }} (no expressions), or {{ \"{{\" }} for literal braces"
        ))
    }
    return .success(Reference(path: path, lineOffset: lineOffset, filters: filters))
  }

  private init(segments: [Segment]) { self.segments = segments }

  /// Renders with `resolve` giving each reference's text; `nil` from it leaves the
  /// reference as written (`{{ name }}`) so callers can show what is still unknown.
  public func render(resolving resolve: (Reference) -> String?) -> String {
    var out = ""
    for segment in segments {
      switch segment {
      case .text(let text): out += text
      case .variable(let reference):
        out += resolve(reference).map(reference.encode) ?? reference.written
      }
    }
    return out
  }

  /// Renders literal text through `literal` and each reference, by its position among
  /// `references`, through `reference` (for another template engine's syntax).
  public func render(literal: (String) -> String, reference: (Int, Reference) -> String) -> String {
    var out = ""
    var position = 0
    for segment in segments {
      switch segment {
      case .text(let text): out += literal(text)
      case .variable(let ref):
        out += reference(position, ref)
        position += 1
      }
    }
    return out
  }

  /// Renders with the text of each reference given by its position among `references`;
  /// `nil` leaves the reference as written. Cheaper than `render(_:)` on hot paths.
  public func renderByPosition(_ resolve: (Int) -> String?) -> String {
    var out = ""
    var position = 0
    for segment in segments {
      switch segment {
      case .text(let text): out += text
      case .variable(let reference):
        out += resolve(position).map(reference.encode) ?? reference.written
        position += 1
      }
    }
    return out
  }

  /// References without a filter written inside quotes the author typed (an odd number of
  /// `'` or `"` before them on their line): a value holding that quote breaks the command.
  public var handQuotedReferences: [Reference] {
    var found: [Reference] = []
    // Quotes so far on the current line, counted as the text comes (a line with thousands
    // of references was counted again at each one).
    var singles = 0
    var doubles = 0
    func count(_ text: Substring) {
      for byte in text.utf8 {
        if byte == UInt8(ascii: "'") {
          singles += 1
        } else if byte == UInt8(ascii: "\"") {
          doubles += 1
        }
      }
    }
    for segment in segments {
      switch segment {
      case .text(let text):
        if let newline = text.lastIndex(of: "\n") {
          (singles, doubles) = (0, 0)
          count(text[text.index(after: newline)...])
        } else {
          count(text[...])
        }
      case .variable(let reference):
        if reference.filters.isEmpty, singles % 2 == 1 || doubles % 2 == 1 {
          found.append(reference)
        }
      }
    }
    return found
  }

  /// Whether `name` is a variable name: letters, digits and `_`, not starting with a digit.
  public static func isIdentifier<S: StringProtocol>(_ name: S) -> Bool {
    guard let first = name.first, first.isLetter || first == "_" else { return false }
    return name.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" }
  }

  /// A path part after the first: a mapping key, a list index or a group name with dashes.
  private static func isKey(_ part: String) -> Bool {
    !part.isEmpty && part.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }
  }
}
