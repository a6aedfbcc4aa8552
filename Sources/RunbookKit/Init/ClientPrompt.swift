import Foundation

/// A database or datastore client that guides open at a prompt and then type into: which
/// line opens it, which lines are its prompts, which lines leave it.
enum ClientPrompt {
  /// A line that opens a client's prompt: `mysql -uroot -p`, `sudo -u postgres psql`,
  /// `sqlite3 app.db`, `redis-cli`.
  static let opening = try! NSRegularExpression(
    pattern:
      #"^(?:\$ |# )?(?:sudo(?: -[iu](?: \S+)?)* )?(mysql|mariadb|psql|sqlite3|redis-cli)(?: .*)?$"#)

  /// A prompt copied with what was typed at it (`postgres=# `, `app=> `, `sqlite> `,
  /// `127.0.0.1:6379> `); MySQL's and MariaDB's are `InitKind.isSQLPrompt`'s.
  static let prompt = try! NSRegularExpression(
    pattern: #"^\s*(?:[A-Za-z0-9_]+[=-][#>]|sqlite>|[A-Za-z0-9_.-]+:\d+>|redis>) "#)

  /// Lines that leave a client's prompt.
  static let leaving: Set<String> = ["\\q", "exit", "quit", ".quit", ".exit", "exit;", "quit;"]

  /// SQL statements, as a guide types them without a prompt.
  static let statement = try! NSRegularExpression(
    pattern:
      #"^(?:CREATE|ALTER|GRANT|REVOKE|SELECT|INSERT|UPDATE|DELETE|DROP|FLUSH|USE|SET|SHOW|\\c|\\connect)\b"#,
    options: [.caseInsensitive])

  /// The client a line opens, and the command to give `client=` (nil for MySQL and
  /// MariaDB: a sql step's default client, which needs no password flag). A command that
  /// would carry a password in its arguments is not one to keep.
  static func opened(by line: String) -> (program: String, client: String?)? {
    guard let match = first(opening, in: line), let range = Range(match.range(at: 1), in: line)
    else { return nil }
    let program = String(line[range])
    var command = line
    if command.hasPrefix("$ ") || command.hasPrefix("# ") { command.removeFirst(2) }
    let words = command.split(separator: " ")
    guard opensPrompt(program, words: words.drop { !$0.hasSuffix(program) }.dropFirst()) else {
      return nil
    }
    let carriesPassword = words.contains {
      $0 == "-a" || $0.hasPrefix("--pass") || $0.hasPrefix("--askpass")
        || $0.hasPrefix("-p")
          && program != "psql"
    }
    // MySQL's and MariaDB's statements go to a sql step's own client.
    if ["mysql", "mariadb"].contains(program) { return (program, nil) }
    // Another client's command is kept as `client=`, between double quotes: one that
    // carries a password, a double quote or a backslash cannot be, and no other client
    // may take its statements (they would reach MySQL), so it opens nothing here.
    if carriesPassword || command.contains("\"") || command.contains("\\") { return nil }
    return (program, command)
  }

  /// Whether the client's arguments leave it at its prompt: no command given to run
  /// (`-c`, `-e`, a redis command, a statement after sqlite3's database), no redirection.
  static func opensPrompt(_ program: String, words: ArraySlice<Substring>) -> Bool {
    let oneShot: Set<Substring> = ["-c", "-e", "--command", "--execute", "-f", "--file"]
    if words.contains(where: { oneShot.contains($0) || $0.hasPrefix("--command=") })
      || words.contains(where: { $0.contains("<") || $0.contains(">") || $0 == "|" })
    {
      return false
    }
    // Operands: words that are neither options nor the values of options that take one.
    let takesValue: Set<Substring> = ["-h", "-p", "-a", "-n", "-u", "-U", "-d", "--user", "-P"]
    var operands = 0
    var previous: Substring = ""
    for word in words {
      if !word.hasPrefix("-"), !takesValue.contains(previous) { operands += 1 }
      previous = word
    }
    switch program {
    case "redis-cli": return operands == 0
    case "psql": return operands <= 2
    default: return operands <= 1
    }
  }

  /// Whether `line` is typed at a client's prompt (with its prompt).
  static func isPrompted(_ line: String) -> Bool {
    first(prompt, in: line) != nil || InitKind.isSQLPrompt(Substring(line))
  }

  /// Whether `line` reads as a SQL statement typed without a prompt.
  static func isStatement(_ line: String) -> Bool { first(statement, in: line) != nil }

  /// `line` without a prompt of `prompt`'s.
  static func strippingPrompt(_ line: Substring) -> Substring {
    let text = String(line)
    guard let match = first(prompt, in: text), let range = Range(match.range, in: text) else {
      return line
    }
    return Substring(text[range.upperBound...])
  }

  private static func first(_ pattern: NSRegularExpression, in line: String)
    -> NSTextCheckingResult?
  {
    pattern.firstMatch(in: line, range: NSRange(line.startIndex..., in: line))
  }
}
