/// A program kept as a file in `Sources/RunbookKit/Scripts` (compiled in as
/// `EmbeddedScripts`) whose `@NAME@` placeholders the tool fills in: a name of capital
/// letters, digits and underscores between two at signs. Every placeholder must be given
/// a value and every value must have a placeholder, so a script and the code that fills
/// it cannot drift apart unnoticed.
struct ScriptTemplate: Sendable {
  /// Why a template cannot be filled in.
  enum Mismatch: Error, Equatable {
    /// Placeholders of the template that no value was given for.
    case unfilled([String])
    /// Values given for placeholders the template does not have.
    case unknown([String])
  }

  /// The file name, for messages.
  let name: String
  /// The text as the file holds it.
  let text: String

  /// The template `name` whose text is `text`.
  init(_ name: String, text: String) {
    self.name = name
    self.text = text
  }

  /// The names of the placeholders, in the order they first appear.
  var placeholders: [String] {
    var names: [String] = []
    for piece in pieces() {
      if case .placeholder(let name) = piece, !names.contains(name) { names.append(name) }
    }
    return names
  }

  /// The text with each placeholder replaced by its value (as given: quoting is the
  /// caller's). A value is not searched for placeholders in turn.
  func filled(_ values: [String: String]) throws(Mismatch) -> String {
    let names = placeholders
    let unknown = values.keys.filter { !names.contains($0) }.sorted()
    guard unknown.isEmpty else { throw .unknown(unknown) }
    let unfilled = names.filter { values[$0] == nil }
    guard unfilled.isEmpty else { throw .unfilled(unfilled) }
    var out = ""
    for piece in pieces() {
      switch piece {
      case .text(let text): out += text
      case .placeholder(let name): out += values[name]!
      }
    }
    return out
  }

  /// `filled(values)` for the templates of the tool itself, where a mismatch is a bug in
  /// the tool: it stops the program, naming the script.
  func rendered(_ values: [String: String]) -> String {
    do {
      return try filled(values)
    } catch {
      preconditionFailure("the script \(name) does not fit its values: \(error)")
    }
  }

  private enum Piece {
    case text(Substring)
    case placeholder(String)
  }

  /// The text cut into plain text and placeholders. An at sign not followed by a name and
  /// a closing one (`"$@"`) is text.
  private func pieces() -> [Piece] {
    var pieces: [Piece] = []
    var start = text.startIndex
    var scan = text.startIndex
    while let open = text[scan...].firstIndex(of: "@") {
      let after = text.index(after: open)
      let name = text[after...].prefix {
        $0.isASCII && ($0.isUppercase || $0.isNumber || $0 == "_")
      }
      let close = name.endIndex
      guard let first = name.first, first.isLetter, close < text.endIndex, text[close] == "@"
      else {
        scan = after
        continue
      }
      pieces.append(.text(text[start..<open]))
      pieces.append(.placeholder(String(name)))
      start = text.index(after: close)
      scan = start
    }
    pieces.append(.text(text[start...]))
    return pieces
  }
}
