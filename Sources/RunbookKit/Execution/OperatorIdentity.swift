import Foundation

/// Who runs a run, as its record and reports name them: the name given (`--operator`), else
/// `RUNBOOK_OPERATOR`, else git's `user.name <user.email>` (the user's global git
/// configuration), else `login@machine`. A person, where one can be found, rather than the
/// account a shared jump host logs everyone in as.
public enum OperatorIdentity {
  /// The operator's name from what is given; `readFile` reads a file (git's configuration)
  /// or gives nil.
  public static func resolve(
    given: String?, environment: [String: String],
    readFile: (String) -> String? = { try? String(contentsOfFile: $0, encoding: .utf8) }
  ) -> String {
    for candidate in [given, environment["RUNBOOK_OPERATOR"], git(environment, readFile)] {
      if let name = candidate.map(clean), !name.isEmpty { return name }
    }
    let user = environment["USER"] ?? NSUserName()
    return "\(user)@\(ProcessInfo.processInfo.hostName)"
  }

  /// The principal a signature by this operator names: the e-mail address of
  /// `Name <address>`, or a name that is itself an address; nil otherwise.
  public static func principal(of operatorName: String) -> String? {
    var candidate = operatorName
    if let open = operatorName.lastIndex(of: "<"), operatorName.hasSuffix(">") {
      candidate = String(operatorName[operatorName.index(after: open)...].dropLast())
    }
    guard candidate.contains("@"), isPrincipal(candidate) else {
      return nil
    }
    return candidate
  }

  /// Whether `name` can name a signer in a signature's statement and an allowed-signers
  /// lookup: one word, printable, not an option.
  public static func isPrincipal(_ name: String) -> Bool {
    !name.isEmpty && !name.hasPrefix("-")
      && name.unicodeScalars.allSatisfy {
        !($0.properties.isWhitespace || $0.properties.generalCategory == .control) && $0 != ","
      }
  }

  /// One line, without control characters: the name reaches terminals and reports.
  static func clean(_ name: String) -> String {
    // Spaces stay; other white space (line breaks, tabs) and control characters go.
    String(
      name.unicodeScalars.filter {
        $0 == " " || !($0.properties.isWhitespace || $0.properties.generalCategory == .control)
      }.map(Character.init)
    ).trimmingCharacters(in: .whitespaces)
  }

  /// `user.name <user.email>` from git's global configuration files, later ones winning
  /// as git reads them; nil without a name.
  static func git(_ environment: [String: String], _ readFile: (String) -> String?) -> String? {
    let home = environment["HOME"] ?? NSHomeDirectory()
    let files =
      environment["GIT_CONFIG_GLOBAL"].map { [$0] }
      ?? [
        (environment["XDG_CONFIG_HOME"] ?? home + "/.config") + "/git/config",
        home + "/.gitconfig",
      ]
    var user: [String: String] = [:]
    for file in files {
      guard let text = readFile(file) else { continue }
      var section = ""
      for raw in text.split(whereSeparator: \.isNewline) {
        let line = raw.trimmingCharacters(in: .whitespaces)
        if line.hasPrefix("[") {
          section = line.dropFirst().prefix { $0 != "]" }.lowercased()
            .trimmingCharacters(in: .whitespaces)
          continue
        }
        guard section == "user", let equals = line.firstIndex(of: "=") else { continue }
        let key = line[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
        var value = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
        if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") {
          value = String(value.dropFirst().dropLast())
        }
        if key == "name" || key == "email" { user[key] = value }
      }
    }
    guard let name = user["name"], !name.isEmpty else { return nil }
    return user["email"].map { "\(name) <\($0)>" } ?? name
  }
}
