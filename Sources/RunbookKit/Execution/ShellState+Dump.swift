import Foundation

/// The state as a step's shell prints it, between marker lines of the step's nonce: bash's
/// `declare -p` and `declare -f`, or a POSIX shell's `set` and `export -p`. Shell builtins
/// only: reading the state costs a step no process.
extension ShellState {
  /// When in a step the state is printed.
  public enum Moment: String, Sendable {
    /// Before the session is set up: a fresh shell's state, the session's base.
    case before
    /// After the step's commands, when they all succeeded.
    case after
  }

  /// The lines that print the state at `moment`, between the step's marker lines. After
  /// the step, they print only if its commands succeeded, and they keep its exit status:
  /// printing the state never fails a step that had finished (a tool gone since would make
  /// the printing die of SIGPIPE, and the host would say the step failed).
  static func dumpScript(nonce: String, moment: Moment) -> String {
    let print = """
      printf '%s\\n' '\(nonce) state \(moment.rawValue)'
      if [ -n "${BASH_VERSION:-}" ]; then echo bash; declare -p; echo '\(nonce) functions'; declare -f
      else echo sh; set; echo '\(nonce) exported'; export -p; fi
      echo '\(nonce) state-end'

      """
    guard moment == .after else { return print }
    return "runbook_status=$?\nif [ \"$runbook_status\" -eq 0 ]; then set +e; trap '' PIPE\n"
      + print + "fi\nexit \"$runbook_status\"\n"
  }

  /// The control lines between which the state is printed (kept out of logs and output).
  static func region(nonce: String) -> (start: String, end: String) {
    ("\(nonce) state ", "\(nonce) state-end")
  }

  /// The states printed in `text` (what the collector kept between the region's lines), by
  /// moment; a state cut short (a step killed while it printed) is not there.
  static func dumps(in text: String, nonce: String) -> [Moment: ShellState] {
    var found: [Moment: ShellState] = [:]
    let bytes = Array(text.utf8)
    // A marker counts at the start of a line only: a value may hold its text (bash's
    // BASH_EXECUTION_STRING holds the whole script), but a value's line never starts it.
    let marker = Array("\(nonce) state ".utf8)
    let starts = lineStarts(bytes[...]) { $0.starts(with: marker) }
    for (index, start) in starts.enumerated() {
      let end = index + 1 < starts.count ? starts[index + 1] : bytes.count
      var reader = ShellWordReader(bytes[(start + marker.count)..<end])
      guard let moment = Moment(rawValue: reader.line()) else { continue }
      let format = reader.line()
      let body = reader.rest
      switch format {
      case "bash": found[moment] = parseBash(body, nonce: nonce)
      case "sh": found[moment] = parsePOSIX(body, nonce: nonce)
      default: continue
      }
    }
    return found
  }

  /// Where the lines of `bytes` that `matches` accepts start. Bytes, not `String`: the
  /// state is read after every step, and searching it as characters cost a bash step more
  /// than its shell took to print it.
  private static func lineStarts(
    _ bytes: ArraySlice<UInt8>, where matches: (ArraySlice<UInt8>) -> Bool
  ) -> [Int] {
    var starts: [Int] = []
    var start = bytes.startIndex
    while start < bytes.endIndex {
      let end = bytes[start...].firstIndex(of: UInt8(ascii: "\n")) ?? bytes.endIndex
      if matches(bytes[start..<end]) { starts.append(start) }
      start = end + 1
    }
    return starts
  }

  /// The bytes before and after the one line that is `line`, or nil if no line is or more
  /// than one are.
  private static func splitAtLine(
    _ bytes: ArraySlice<UInt8>, _ line: String
  ) -> (before: ArraySlice<UInt8>, after: ArraySlice<UInt8>)? {
    let wanted = Array(line.utf8)
    let starts = lineStarts(bytes) { $0.elementsEqual(wanted) }
    guard starts.count == 1, let start = starts.first else { return nil }
    let afterLine = min(start + wanted.count + 1, bytes.endIndex)
    return (bytes[..<max(start - 1, bytes.startIndex)], bytes[afterLine...])
  }

  /// bash's `declare -p`, then the functions marker and `declare -f`.
  static func parseBash(_ bytes: ArraySlice<UInt8>, nonce: String) -> ShellState? {
    guard let split = splitAtLine(bytes, "\(nonce) functions") else { return nil }
    var state = ShellState()
    var reader = ShellWordReader(split.before)
    while !reader.atEnd {
      let start = reader.offset
      guard reader.take("declare ") else {
        _ = reader.line()
        continue
      }
      let flags = reader.plain(until: [UInt8(ascii: " "), UInt8(ascii: "\n")])
      reader.skipBlanks()
      let name = reader.plain(until: [UInt8(ascii: "="), UInt8(ascii: "\n")])
      guard reader.take("=") else {
        _ = reader.line()
        continue
      }
      var value = ""
      var declaration: String?
      if flags.contains("a") || flags.contains("A"), reader.take("(") {
        value = arrayFirst(&reader)
        declaration =
          "declare -\(flags.filter { "aAx".contains($0) }) " + name + "="
          + String(reader.text(from: start).drop { $0 != "=" }.dropFirst())
      } else {
        value = reader.word()
      }
      _ = reader.line()
      // bash sets these for itself where the environment has none.
      let bashOwn = ["SHELL", "TERM"].contains(name) && !flags.contains("x")
      if ShellState.isCarried(name), !flags.contains("r"), !bashOwn {
        state.variables[name] = ShellVariable(
          value, exported: flags.contains("x"), declaration: declaration)
      } else {
        state.takeOwn(name, value)
      }
    }
    state.functions = functions(String(decoding: split.after, as: UTF8.self))
    return state
  }

  /// Takes what a variable that is not carried says of the state: the directory.
  private mutating func takeOwn(_ name: String, _ value: String) {
    if name == "PWD" { cwd = value }
    if name == "runbook_cwd" { stepDirectory = value }
  }

  /// An array's elements up to its `)`: the first element's value.
  private static func arrayFirst(_ reader: inout ShellWordReader) -> String {
    var first: String?
    while let byte = reader.next, byte != UInt8(ascii: ")") {
      if byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\n") {
        reader.skipBlanks()
        if reader.next == UInt8(ascii: "\n") { _ = reader.take("\n") }
        continue
      }
      let element = reader.word()
      if first == nil, let equals = element.firstIndex(of: "=") {
        first = String(element[element.index(after: equals)...])
      }
    }
    _ = reader.take(")")
    return first ?? ""
  }

  /// `declare -f`'s definitions, each from its `NAME () ` line to the next.
  static func functions(_ text: String) -> [String: String] {
    var found: [String: String] = [:]
    var name: String?
    var lines: [Substring] = []
    func close() {
      if let name { found[name] = lines.joined(separator: "\n") + "\n" }
    }
    for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
      if line.hasSuffix(" () "), let first = line.first, first != " ",
        !line.dropLast(4).contains(" ")
      {
        close()
        name = String(line.dropLast(4))
        lines = [line]
      } else if name != nil {
        lines.append(line)
      }
    }
    close()
    // The trailing blank lines of the last definition (the end marker's line) are not its own.
    return found.mapValues {
      $0.replacingOccurrences(of: "\n\n+$", with: "\n", options: .regularExpression)
    }
  }

  /// A POSIX shell's `set`, then the exported marker and `export -p`.
  static func parsePOSIX(_ bytes: ArraySlice<UInt8>, nonce: String) -> ShellState? {
    guard let split = splitAtLine(bytes, "\(nonce) exported") else { return nil }
    var state = ShellState()
    state.seesBashState = false
    var exported: Set<String> = []
    var reader = ShellWordReader(split.after)
    while !reader.atEnd {
      guard reader.take("export ") else {
        _ = reader.line()
        continue
      }
      exported.insert(reader.plain(until: [UInt8(ascii: "="), UInt8(ascii: "\n")]))
      _ = reader.take("=") ? reader.word() : ""
      _ = reader.line()
    }
    reader = ShellWordReader(split.before)
    while !reader.atEnd {
      let name = reader.plain(until: [UInt8(ascii: "="), UInt8(ascii: "\n")])
      guard reader.take("=") else {
        _ = reader.line()
        continue
      }
      let value = reader.word()
      _ = reader.line()
      if ShellState.isCarried(name) {
        state.variables[name] = ShellVariable(value, exported: exported.contains(name))
      } else {
        state.takeOwn(name, value)
      }
    }
    return state
  }
}
