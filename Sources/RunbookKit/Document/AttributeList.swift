import Foundation

/// The raw `{key=value flag key="quoted value"}` list of a fence's info string.
public struct AttributeList: Sendable, Equatable {
  /// One `key=value` pair, or a bare flag (`value == nil`).
  public struct Entry: Sendable, Equatable {
    /// The attribute's name.
    public var key: String
    /// The value, quotes removed; `nil` for a bare flag.
    public var value: String?

    /// Creates an entry.
    public init(key: String, value: String?) {
      self.key = key
      self.value = value
    }
  }

  /// A syntax problem in the info string, with a message that says what to write.
  public struct SyntaxError: Error, Sendable, Equatable {
    /// What is wrong and how to fix it.
    public var message: String
  }

  /// The language word before the braces (`sh` in ```` ```sh {role=db} ````).
  public var language: String
  /// The entries in the order written.
  public var entries: [Entry]
  /// The attributes were written as a JSON object (Runme's form).
  public var json = false
  /// Words between the language and `{` (MkDocs' `title="app.py"`, Docusaurus'
  /// `showLineNumbers`): they say how to show the block, and are ignored.
  public var ignoredWords: String?

  /// Creates a list.
  public init(language: String, entries: [Entry], json: Bool = false) {
    self.language = language
    self.entries = entries
    self.json = json
  }

  /// Splits an info string into its language and attribute list.
  ///
  /// Returns `nil` when the info string has no `{`: such a block is documentation.
  public static func parse(info: String) throws(SyntaxError) -> AttributeList? {
    let trimmed = info.trimmingWhitespace()
    guard let open = trimmed.firstIndex(of: "{") else { return nil }
    let words = String(trimmed[..<open]).trimmingWhitespace()
    let language = String(words.prefix { !$0.isWhitespace })
    let extra = words.dropFirst(language.count).trimmingWhitespace()
    var list = try attributes(trimmed[open...], language: language)
    list.ignoredWords = extra.isEmpty ? nil : extra
    return list
  }

  /// The list from its `{`, for a block in `language`.
  private static func attributes(_ body: Substring, language: String) throws(SyntaxError)
    -> AttributeList
  {
    // Runme writes attributes as a JSON object too: {"name":"build","interactive":"false"}.
    if body.dropFirst().drop(while: \.isWhitespace).first == "\"" {
      return AttributeList(language: language, entries: try jsonEntries(body), json: true)
    }
    var rest = body.dropFirst()
    var entries: [Entry] = []
    while true {
      rest = rest.drop(while: { $0.isWhitespace || $0 == "," })
      guard let first = rest.first else {
        throw SyntaxError(
          message: "attribute list is not closed; add '}' at the end of the fence line")
      }
      if first == "}" {
        let after = rest.dropFirst().trimmingWhitespace()
        if !after.isEmpty {
          throw SyntaxError(message: "unexpected text '\(after)' after the closing '}'")
        }
        return AttributeList(language: language, entries: entries)
      }
      let key = rest.prefix(while: { isKeyCharacter($0) })
      if key.isEmpty { throw unexpected(first, after: entries) }
      rest = rest.dropFirst(key.count)
      guard rest.first == "=" else {
        entries.append(Entry(key: String(key), value: nil))
        continue
      }
      rest = rest.dropFirst()
      let value: String
      if let quote = rest.first, quote == "\"" || quote == "'" {
        value = try quotedValue(of: key, quote: quote, in: &rest)
      } else {
        value = unquotedValue(in: &rest)
      }
      entries.append(Entry(key: String(key), value: value))
    }
  }

  /// The entries of Runme's JSON form, by key; a JSON boolean is `true` or `false`.
  private static func jsonEntries(_ body: Substring) throws(SyntaxError) -> [Entry] {
    guard
      let object = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
    else {
      throw SyntaxError(
        message:
          "attributes in JSON form must be one JSON object, like {\"name\":\"build\"}; check its quotes and commas"
      )
    }
    return object.keys.sorted().map { key -> Entry in
      let value = object[key]
      if let flag = value as? Bool { return Entry(key: key, value: flag ? "true" : "false") }
      return Entry(key: key, value: value.map { "\($0)" })
    }
  }

  /// The error for a character that cannot start an attribute, with a hint for quotes.
  private static func unexpected(_ first: Character, after entries: [Entry]) -> SyntaxError {
    var hint =
      first == "\"" || first == "'"
      ? "; a quote belongs inside a quoted value: key=\"say \\\"hi\\\"\" or key='say \"hi\"'"
      : ""
    if first == "\\",
      let previous = entries.last(where: { $0.value?.hasSuffix("\\") == true })
    {
      // `\\"` was how a quote was written when the line was read after CommonMark took
      // one backslash away; it is read as typed now, and that closes the value early.
      hint =
        "; the value of '\(previous.key)' ended at a '\\\\\"': the fence line is read as it is typed now, so inside a quoted value write \\\" for a quote and \\\\ for a backslash (\(previous.key)=\"say \\\"hi\\\"\"), not the \\\\\" of older runbooks"
    }
    return SyntaxError(
      message:
        "unexpected '\(first)' in attribute list; attributes are key=value, key=\"value\" or a bare flag"
        + hint)
  }

  /// Reads a value between `quote`s at the start of `rest`, leaving `rest` after it. A
  /// backslash escapes the quote and itself.
  private static func quotedValue(
    of key: Substring, quote: Character, in rest: inout Substring
  ) throws(SyntaxError) -> String {
    var value = ""
    var index = rest.index(after: rest.startIndex)
    var closed = false
    while index < rest.endIndex {
      let c = rest[index]
      if c == "\\", rest.index(after: index) < rest.endIndex,
        rest[rest.index(after: index)] == quote || rest[rest.index(after: index)] == "\\"
      {
        index = rest.index(after: index)
        value.append(rest[index])
      } else if c == quote {
        closed = true
        break
      } else {
        value.append(c)
      }
      index = rest.index(after: index)
    }
    if !closed {
      throw SyntaxError(
        message: "value of '\(key)' has no closing \(quote); close the quote before '}'")
    }
    rest = rest[rest.index(after: index)...]
    return value
  }

  /// An unquoted value ends at white space or '}', except inside a `{{ variable }}`, so
  /// file={{ workdir }}/app.ini needs no quotes.
  private static func unquotedValue(in rest: inout Substring) -> String {
    var value = ""
    var closes = true  // whether a "}}" may still come; once not, never search again
    while let c = rest.first, !c.isWhitespace, c != "}" {
      if closes, rest.hasPrefix("{{"), let close = rest.range(of: "}}") {
        value += rest[..<close.upperBound]
        rest = rest[close.upperBound...]
      } else {
        if rest.hasPrefix("{{") { closes = false }
        value.append(c)
        rest = rest.dropFirst()
      }
    }
    return value
  }

  private static func isKeyCharacter(_ c: Character) -> Bool {
    c.isLetter || c.isNumber || c == "-" || c == "_"
  }
}

extension StringProtocol {
  /// The string without leading and trailing white space.
  func trimmingWhitespace() -> String {
    guard let start = firstIndex(where: { !$0.isWhitespace }) else { return "" }
    let end = lastIndex(where: { !$0.isWhitespace })!
    return String(self[start...end])
  }
}
