/// A database client that `sql` steps type their statements into, as far as runbook knows
/// its habits: the options that make it stop at an error and answer line by line, the
/// statement whose echo closes a step's answer, and the replies that mean an error where
/// the client goes on after one.
///
/// The program is found in the `client=` command (after `sudo -u postgres`, `MYSQL_PWD=…`
/// and the like); a command runbook does not know is run as it is written.
struct SQLClient: Sendable, Equatable {
  /// The clients runbook knows.
  enum Program: String, Sendable {
    case mysql, psql, sqlite3
    case redis = "redis-cli"
  }

  /// Which client it is.
  var program: Program
  /// The command as written, with the client's own options after its program word.
  var command: String

  /// The client that `client=` names, or nil where runbook does not know it (or cannot
  /// tell the program word apart from the shell syntax before it).
  init?(_ written: String) {
    // The last word that names a client is the program (`sudo -u mysql mysql`, `docker
    // exec -i db psql`): the words before it are a wrapper's.
    var found: (program: Program, start: String.Index, end: String.Index)?
    var index = written.startIndex
    while let start = written[index...].firstIndex(where: { !$0.isWhitespace }) {
      let end = written[start...].firstIndex(where: \.isWhitespace) ?? written.endIndex
      let word = written[start..<end]
      if word.allSatisfy(Self.plain),
        let program = Self.program(named: word.split(separator: "/").last.map(String.init))
      {
        found = (program, start, end)
      }
      index = end
    }
    guard let found else { return nil }
    // Only a word the shell reads as it is written: nothing before it opens a quote or a
    // command substitution, or makes it part of another command.
    let before = written[..<found.start]
    guard before.count(where: { $0 == "'" }) % 2 == 0, before.count(where: { $0 == "\"" }) % 2 == 0,
      !before.contains(where: { "\\`|;&<>()".contains($0) })
    else { return nil }
    program = found.program
    let at = program == .mysql ? Self.afterDefaultsOptions(written, from: found.end) : found.end
    command = String(written[..<at]) + " " + program.options + String(written[at...])
  }

  /// Where mysql's options may go after its program word: past the option files it is
  /// told of, which mysql reads only as its first options.
  private static func afterDefaultsOptions(_ written: String, from end: String.Index)
    -> String.Index
  {
    var at = end
    while let start = written[at...].firstIndex(where: { !$0.isWhitespace }) {
      let wordEnd = written[start...].firstIndex(where: \.isWhitespace) ?? written.endIndex
      let word = written[start..<wordEnd]
      let isDefaults = [
        "--defaults-file=", "--defaults-extra-file=", "--defaults-group-suffix=",
        "--no-defaults", "--print-defaults", "--login-path=", "--no-login-paths",
      ].contains { word.hasPrefix($0) }
      guard isDefaults else { break }
      at = wordEnd
    }
    return at
  }

  private static func program(named name: String?) -> Program? {
    switch name {
    case "mysql", "mariadb": .mysql
    case "psql": .psql
    case "sqlite3": .sqlite3
    case "redis-cli": .redis
    default: nil
    }
  }

  private static func plain(_ c: Character) -> Bool {
    c.isASCII && (c.isLetter || c.isNumber || "-_./".contains(c))
  }

  /// The lines after a step's statements: an empty statement that ends one the block left
  /// open (as the end of input would), then one whose answer holds `marker` (sqlite3's
  /// output sent back to the step first, should the block have sent it to a file).
  func closing(_ marker: String) -> String {
    switch program {
    case .mysql: ";\nSELECT '\(marker)';\n"
    case .psql: ";\n\\echo \(marker)\n"
    case .sqlite3: ";\n.output stdout\n.print \(marker)\n"
    case .redis: "ECHO \(marker)\n"
    }
  }

  /// Replies (an extended regular expression) that fail the step, for a client that
  /// goes on after an error; the others stop and exit non-zero.
  var errorReply: String? { program == .redis ? #"^\(error\) "# : nil }

  /// Replies after which the client answers no more (a redis-cli that lost its server).
  var fatalReply: String? { program == .redis ? "^Could not connect to Redis" : nil }
}

extension SQLClient.Program {
  /// Options that make the client stop at an error (`psql`, `sqlite3`), answer as soon as
  /// a statement is done (`mysql`), and print replies as at its prompt (`redis-cli`,
  /// whose errors then read `(error) …`).
  var options: String {
    switch self {
    case .mysql: "--unbuffered"
    case .psql: "-v ON_ERROR_STOP=1"
    case .sqlite3: "-bail"
    case .redis: "--no-raw"
    }
  }
}
