import Foundation

/// A SQL block as a terminal showed it: statements typed at a client's prompt, with the
/// client's output between them. The prompts come off; when the block has prompts, a line
/// without one that does not continue an open statement, nor is one itself (ends with `;`),
/// is output (`| 1 |`, `Query OK, 1 row affected`) and is left out, never sent to the
/// client as SQL.
public struct SQLTranscript: Sendable, Equatable {
  /// The statements, prompts taken off, one line for each line kept.
  public var statements: String
  /// The 1-based lines left out as the client's output.
  public var outputLines: [Int]

  /// Database prompts that guides copy along with the statements: MySQL and MariaDB
  /// (`mysql> `, `MariaDB [db]> `, `    -> `), sqlite3 (`sqlite> `, `   ...> `), psql
  /// (`postgres=# `, `app=> `, `app-# `, `app(# `) and redis-cli (`127.0.0.1:6379> `).
  static let prompt = try! NSRegularExpression(
    pattern:
      #"^(?:(?:MariaDB|mysql) \[[^\]]*\]> |mysql> |MariaDB> |\s*-> |sqlite> |\s*\.\.\.> |[A-Za-z_][A-Za-z0-9_]*[=\-('"*$][#>] |(?:[0-9]{1,3}(?:\.[0-9]{1,3}){3}|localhost|\[[0-9a-fA-F:]+\]):[0-9]+(?:\[[0-9]+\])?> )"#
  )
  /// redis-cli's prompt: what follows it is one whole command.
  static let redisPrompt = try! NSRegularExpression(
    pattern: #"^(?:[0-9.]+|localhost|\[[0-9a-fA-F:]+\]):[0-9]+(?:\[[0-9]+\])?> "#)

  /// Reads `body`.
  public init(_ body: String) {
    let lines = body.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    let typed = lines.map(Self.typed)
    guard typed.contains(where: { $0 != nil }) else {
      statements = body
      outputLines = []
      return
    }
    var kept: [String] = []
    var output: [Int] = []
    var open = false
    for (i, line) in lines.enumerated() {
      if let statement = typed[i] {
        kept.append(statement)
      } else if open || line.trimmingWhitespace().isEmpty || Self.isStatement(line) {
        kept.append(line)
      } else {
        output.append(i + 1)
        continue
      }
      // A statement goes on until its `;`; a client's own command (`\dt`, `.tables`) and
      // a Redis command are one line.
      let text = Self.withoutComment((typed[i] ?? line).trimmingWhitespace())
      if !text.isEmpty {
        let command = !open && (text.hasPrefix("\\") || text.hasPrefix("."))
        open =
          !command && !text.hasSuffix(";") && !text.lowercased().hasSuffix("\\g")
          && !Self.matches(Self.redisPrompt, lines[i])
      }
    }
    statements = kept.joined(separator: "\n")
    outputLines = output
  }

  /// A line without a prompt that is SQL all the same, never dropped as output: it ends a
  /// statement (`;`), starts with a statement's keyword, or is a client's own command.
  static func isStatement(_ line: String) -> Bool {
    let text = withoutComment(line.trimmingWhitespace())
    if text.hasSuffix(";") || text.hasPrefix("\\") { return true }
    let word = text.prefix { $0.isLetter }.uppercased()
    return keywords.contains(word) && text.dropFirst(word.count).first.map(\.isWhitespace) != false
  }

  /// The words a SQL statement starts with (MySQL's, PostgreSQL's, SQLite's common ones).
  static let keywords: Set<String> = [
    "SELECT", "INSERT", "UPDATE", "DELETE", "CREATE", "DROP", "ALTER", "GRANT", "REVOKE",
    "USE", "SET", "BEGIN", "START", "COMMIT", "ROLLBACK", "FLUSH", "SHOW", "DESCRIBE", "DESC",
    "EXPLAIN", "WITH", "TRUNCATE", "REPLACE", "CALL", "VACUUM", "ANALYZE", "COPY", "PRAGMA",
    "ATTACH", "DETACH", "LOCK", "UNLOCK", "SOURCE", "REINDEX", "COMMENT",
  ]

  /// `text` without a trailing `-- comment` (outside quotes, as far as a line tells).
  static func withoutComment(_ text: String) -> String {
    var quote: Character?
    var previous: Character?
    for (offset, c) in text.enumerated() {
      if let open = quote {
        if c == open { quote = nil }
      } else if c == "'" || c == "\"" {
        quote = c
      } else if c == "-", previous == "-" {
        return String(text.prefix(offset - 1)).trimmingWhitespace()
      }
      previous = c
    }
    return text
  }

  /// What was typed at the prompt `line` starts with; nil when it starts with none.
  static func typed(_ line: String) -> String? {
    let range = NSRange(line.startIndex..., in: line)
    guard let match = prompt.firstMatch(in: line, range: range),
      let prefix = Range(match.range, in: line)
    else { return nil }
    return String(line[prefix.upperBound...])
  }

  private static func matches(_ expression: NSRegularExpression, _ line: String) -> Bool {
    expression.firstMatch(in: line, range: NSRange(line.startIndex..., in: line)) != nil
  }
}
