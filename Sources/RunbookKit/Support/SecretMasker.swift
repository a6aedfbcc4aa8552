/// Replaces every occurrence of a secret's value with a mask, wherever text is written.
public struct SecretMasker: Sendable {
  /// What a secret becomes.
  public static let mask = "********"

  /// The values to hide, longest first so a secret containing another is hidden whole:
  /// each secret and its encoded forms.
  public let values: [String]
  /// The secrets as given (a masker with more secrets starts from these).
  public let secrets: [String]

  /// Creates a masker for `values`; empty values are ignored (they would mask everything).
  public init<S: Sequence>(values: S) where S.Element == String {
    // A secret substituted through a filter (`{{ pw | quote }}`) appears encoded: each form
    // is masked too.
    let values = Array(Set(values.filter { !$0.isEmpty })).sorted()
    secrets = values
    // (A form that holds the value as it is, such as `'value'`, is masked with it.)
    let forms = values.flatMap { value in
      [value] + Template.Filter.encodedForms(of: value).filter { !$0.contains(value) }
        + Self.lines(of: value)
    }
    self.values = Set(forms).sorted {
      $0.count != $1.count ? $0.count > $1.count : $0 < $1
    }
  }

  /// The shortest line of a multi-line secret that is masked on its own.
  public static let shortestMaskedLine = 4

  /// The lines of a multi-line secret (a private key) long enough to be masked alone: a
  /// diff, a log read line by line or a changed line ending shows them one at a time, where
  /// the whole value never appears.
  static func lines(of value: String) -> [String] {
    guard value.utf8.contains(UInt8(ascii: "\n")) else { return [] }
    // By scalars: "\r\n" is one Character, which a split on "\n" would not cut.
    return value.unicodeScalars.split(separator: "\n").map { line in
      String(String.UnicodeScalarView(line.last == "\r" ? line.dropLast() : line[...]))
        .trimmingWhitespace()
    }.filter { $0.unicodeScalars.count >= shortestMaskedLine }
  }

  /// `text` with every secret value replaced by the mask.
  public func mask(_ text: String) -> String {
    values.isEmpty ? text : ByteSearch.replacing(values, in: text, with: Self.mask)
  }

  /// The longest secret's length in bytes (0 without secrets).
  public var longest: Int { values.first?.utf8.count ?? 0 }

  /// A unified diff with secrets masked, and more: when a secret rotates, the line it
  /// replaces holds the *previous* secret, which no masker knows. So in every block of
  /// changed lines that adds a secret, the removed lines are masked too (their value after
  /// the first `=` or `:`, or the whole line), and so is any removed line elsewhere that
  /// sets the same key.
  public func maskDiff(_ diff: String) -> String {
    guard !values.isEmpty else { return diff }
    var lines = diff.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    func key(_ line: Substring) -> Substring? {
      guard let at = line.firstIndex(where: { $0 == "=" || $0 == ":" }) else { return nil }
      return line[..<at].drop(while: { $0 == " " || $0 == "\t" })
    }
    var secretKeys: Set<Substring> = []
    var block: [Int] = []
    var blockHasSecret = false
    func closeBlock() {
      if blockHasSecret {
        for i in block where lines[i].hasPrefix("-") { lines[i] = Self.maskedRemoval(lines[i]) }
      }
      block = []
      blockHasSecret = false
    }
    for i in lines.indices {
      let line = lines[i]
      guard line.hasPrefix("-") || line.hasPrefix("+") else {
        // A context line can hold a secret an earlier step wrote into the file.
        lines[i] = mask(line)
        closeBlock()
        continue
      }
      block.append(i)
      if line.hasPrefix("+") {
        let masked = mask(line)
        if masked != line {
          blockHasSecret = true
          if let k = key(line.dropFirst()) { secretKeys.insert(k) }
          lines[i] = masked
        }
      } else {
        lines[i] = mask(line)
      }
    }
    closeBlock()
    for i in lines.indices where lines[i].hasPrefix("-") && !lines[i].hasSuffix(Self.mask) {
      if let k = key(lines[i].dropFirst()), secretKeys.contains(k) {
        lines[i] = Self.maskedRemoval(lines[i])
      }
    }
    return lines.joined(separator: "\n")
  }

  /// A removed line with its value masked.
  private static func maskedRemoval(_ line: String) -> String {
    guard let at = line.firstIndex(where: { $0 == "=" || $0 == ":" }) else { return "-" + mask }
    let after = line[line.index(after: at)...]
    let space = after.prefix(while: { $0 == " " })
    return String(line[...at]) + space + mask
  }
}
