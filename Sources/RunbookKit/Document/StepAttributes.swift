/// The validated attributes of a step. Defaults are what a step without the attribute gets.
public struct StepAttributes: Sendable, Equatable {
  /// The roles (inventory groups) whose hosts run the step.
  public var roles: [String] = []
  /// A stable step id chosen by the author.
  public var name: String?
  /// The file a file, ini or append step writes.
  public var file: String?
  /// The file mode to set, in octal (`0644`).
  public var mode: String?
  /// The owner to set, as `user` or `user:group`.
  public var owner: String?
  /// The INI section for keys of a block that has no `[section]` header.
  public var section: String?
  /// Add the block once between marker lines instead of replacing the file.
  public var append = false
  /// An ini merge may create its file when it is missing (mode 0644 unless `mode`).
  public var create = false
  /// The directory the step runs in.
  public var cwd: String?
  /// Environment variables of the step, as `NAME=value` words (`env="A=1 B='two words'"`).
  public var env: String?
  /// The block's attributes are Runme's: without a role it runs on `--default-role` (or
  /// this machine without an inventory).
  public var runme = false
  /// Runme's `excludeFromRunAll` or `background`: the block is not a step.
  public var runmeSkip: String?
  /// Runme's `excludeFromRunAll`: the step runs only when it is asked for by name
  /// (`--from ID --to ID`), never in a run of the whole document.
  public var excludedFromRunAll = false
  /// Runme's `promptEnv` (default on): a Runme block's `export NAME=VALUE` lines ask the
  /// operator for NAME; `promptEnv=false` (or `no`, `never`) runs them as written.
  public var promptEnv = true
  /// Runme attributes that mean nothing here, ignored.
  public var runmeIgnored: [String] = []
  /// The interpreter of a program block (`interpreter=python3.11`); the program is given on
  /// its standard input.
  public var interpreter: String?
  /// The variable that receives the step's trimmed standard output.
  public var capture: String?
  /// Skip the step on a host where this path exists.
  public var creates: String?
  /// Skip the step on a host where this command succeeds.
  public var unless: String?
  /// Stop the step and fail it after this long.
  public var timeout: Duration?
  /// How many times to try again after a failure.
  public var retries = 0
  /// How long to wait between tries.
  public var delay: Duration = .seconds(5)
  /// A regular expression the step's output must match.
  public var expect: String?
  /// Run through `sudo -n`.
  public var become = false
  /// The user to become (implies `become`).
  public var user: String?
  /// Record a failure and go on.
  public var allowFail = false
  /// Tags for `--tags` selection.
  public var tags: [String] = []
  /// Run on one host at a time instead of all at once.
  public var serial = false
  /// The client command of a sql step.
  public var client: String?
  /// Leave `{{ }}` in the block alone: no variable substitution.
  public var raw = false
  /// Run in a fresh shell, outside the host's session: the step sees nothing earlier
  /// steps left (directory, variables) and leaves nothing for later ones.
  public var isolated = false

  /// Creates the defaults.
  public init() {}

  /// How an attribute takes its value, for validation and for the README's reference.
  enum Form {
    case text, list, flag, duration, count, identifier, octal
  }

  /// Every attribute a step may carry, and the form of its value.
  static let known: [(key: String, form: Form)] = [
    ("role", .list), ("name", .text), ("file", .text), ("mode", .octal), ("owner", .text),
    ("section", .text), ("append", .flag), ("capture", .identifier), ("creates", .text),
    ("unless", .text), ("timeout", .duration), ("retries", .count), ("delay", .duration),
    ("expect", .text), ("become", .flag), ("user", .text), ("allow-fail", .flag),
    ("tags", .list), ("serial", .flag), ("client", .text), ("raw", .flag), ("create", .flag),
    ("isolated", .flag),
    ("cwd", .text), ("env", .text), ("interpreter", .text),
  ]

  private static let forms = Dictionary(uniqueKeysWithValues: known.map { ($0.key, $0.form) })

  /// Validates `list`, returning the attributes and one message per problem.
  static func validate(_ list: AttributeList) -> (attributes: StepAttributes, problems: [String]) {
    var attributes = StepAttributes()
    // The JSON form is Runme's: such a block is a Runme cell whatever its keys.
    attributes.runme = list.json
    var problems: [String] = []
    var seen: Set<String> = []

    for entry in list.entries {
      // Runme's own attributes: mapped where they mean something here, else ignored.
      if forms[entry.key] == nil, let handled = attributes.runmeAttribute(entry) {
        if !handled { attributes.runmeIgnored.append(entry.key) }
        attributes.runme = true
        continue
      }
      guard let form = forms[entry.key] else {
        // Runme's JSON form takes any key (its editor adds its own): kept and ignored.
        if list.json {
          attributes.runmeIgnored.append(entry.key)
          attributes.runme = true
        } else {
          problems.append(unknownAttribute(entry.key))
        }
        continue
      }
      if !seen.insert(entry.key).inserted {
        problems.append("attribute '\(entry.key)' is given twice; keep one")
        continue
      }
      let key = entry.key
      if form == .flag {
        switch entry.value?.lowercased() {
        case nil, "true", "yes": attributes.setFlag(key, true)
        case "false", "no": attributes.setFlag(key, false)
        case let other?:
          problems.append("'\(key)' is a flag; write '\(key)' alone, not '\(key)=\(other)'")
        }
        continue
      }
      guard let value = entry.value else {
        problems.append("'\(key)' needs a value: write \(key)=\(example(for: key))")
        continue
      }
      if let problem = attributes.set(key, value, form: form) { problems.append(problem) }
    }
    if seen.contains("delay"), !seen.contains("retries") {
      problems.append("'delay' has no effect without 'retries'; add retries=N")
    }
    return (attributes, problems)
  }

  /// The problem with an attribute runbook does not know, with the nearest known one.
  private static func unknownAttribute(_ key: String) -> String {
    var message = "unknown attribute '\(key)'"
    if let near = NearestWord.nearest(key, in: known.map(\.key)) {
      message += "; did you mean '\(near)'?"
    } else {
      message += "; known attributes: " + known.map(\.key).joined(separator: ", ")
    }
    return message
  }

  /// Sets the attribute `key`, of a form other than a flag, from its value; the problem
  /// with the value when it cannot be set.
  private mutating func set(_ key: String, _ value: String, form: Form) -> String? {
    switch form {
    case .flag: break
    case .text:
      if value.isEmpty {
        return "'\(key)' is empty; write \(key)=\(Self.example(for: key)) or remove it"
      }
      setText(key, value)
    case .list:
      let items = value.split(separator: ",").map { $0.trimmingWhitespace() }
      if items.isEmpty || items.contains(where: \.isEmpty) {
        return
          "'\(key)' needs a comma-separated list without empty items: \(key)=\(Self.example(for: key))"
      } else if key == "role" {
        roles = items
      } else {
        tags = items
      }
    case .duration:
      return setDuration(key, value)
    case .count:
      guard let count = Int(value), count >= 0, count <= 1000 else {
        return "'\(key)' needs a whole number from 0 to 1000, not '\(value)'"
      }
      retries = count
    case .identifier:
      if value.isEmpty {
        return "'capture' is empty; name the variable that receives the output: capture=token"
      } else if !Template.isIdentifier(value) {
        return
          "'\(value)' cannot be a variable name; use letters, digits and '_', not starting with a digit"
      }
      capture = value
    case .octal:
      guard (3...4).contains(value.count), value.allSatisfy({ ("0"..."7").contains($0) }) else {
        return "mode '\(value)' is not an octal file mode; write it like mode=0644"
      }
      mode = value
    }
    return nil
  }

  /// Sets `timeout` or `delay`; the problem with the value when it cannot be set.
  private mutating func setDuration(_ key: String, _ value: String) -> String? {
    guard let duration = Self.parseDuration(value) else {
      if value.split(whereSeparator: { !$0.isNumber }).contains(where: { $0.count > 12 }) {
        // A number too large to hold is still a duration, and above the limit.
        return "'\(key)' of \(value) is longer than the most allowed, 7 days (168h)"
      }
      return
        "'\(value)' is not a duration for '\(key)'; write a number with a unit: 500ms, 90s, 5m, 1h or 1m30s"
    }
    if duration > Self.maximumDuration {
      return "'\(key)' of \(value) is longer than the most allowed, 7 days (168h)"
    } else if key == "timeout", duration == .zero {
      return "'timeout' must be more than 0; leave it out for no time limit"
    } else if key == "timeout" {
      timeout = duration
    } else {
      delay = duration
    }
    return nil
  }

  /// The `NAME=value` words of `env=`, split like a shell does, with each `{{ … }}` kept
  /// inside its word (`GREETING={{ greeting }}` is one word); nil for an unclosed quote.
  public var envWords: [String]? {
    guard let env else { return [] }
    // White space inside a reference is not a word break: it goes (templates ignore it).
    var text = ""
    var inside = false
    var rest = Substring(env)
    while let c = rest.first {
      if rest.hasPrefix("{{") {
        inside = true
        text += "{{"
        rest = rest.dropFirst(2)
      } else if inside, rest.hasPrefix("}}") {
        inside = false
        text += "}}"
        rest = rest.dropFirst(2)
      } else {
        if !(inside && c.isWhitespace) { text.append(c) }
        rest = rest.dropFirst()
      }
    }
    return try? ShellWords.split(text)
  }

  /// Runme's attribute names (runme.dev's cell options).
  static let runmeKeys: Set<String> = [
    "interactive", "background", "excludeFromRunAll", "promptEnv", "terminalRows", "category",
    "tag", "id", "closeTerminalOnSuccess", "mimeType", "interpreter", "ignore", "transform",
    "skipPrompts",
  ]

  /// A value as Go's `strconv.ParseBool` reads it, which is how Runme reads its flags:
  /// `1`, `t`, `true` (any case) are true, `0`, `f`, `false` false, anything else neither
  /// (`yes` included).
  static func runmeBool(_ value: String?) -> Bool? {
    switch value?.lowercased() {
    case "1", "t", "true": true
    case "0", "f", "false": false
    default: nil
    }
  }

  /// Takes a Runme attribute: true when it was mapped, false when it is ignored, nil when
  /// it is not one of Runme's.
  private mutating func runmeAttribute(_ entry: AttributeList.Entry) -> Bool? {
    guard Self.runmeKeys.contains(entry.key) else { return nil }
    // A key without a value (`{ background }`) is Runme's HTML-style true.
    let yes = entry.value == nil || Self.runmeBool(entry.value) == true
    switch entry.key {
    case "tag", "category":
      tags += (entry.value ?? "").split(separator: ",").map { $0.trimmingWhitespace() }
        .filter { !$0.isEmpty }
      return true
    case "excludeFromRunAll":
      excludedFromRunAll = yes
      return true
    case "background":
      if yes { runmeSkip = "a background process in Runme (it would hold the run here)" }
      return true
    case "ignore":
      if yes { runmeSkip = "ignored by Runme (ignore)" }
      return true
    case "transform":
      if entry.value != nil, Self.runmeBool(entry.value) == false {
        runmeSkip = "left as Markdown by Runme (transform=false)"
      }
      return true
    case "promptEnv":
      promptEnv = !["false", "no", "never", "0"].contains(entry.value?.lowercased() ?? "true")
      return true
    default:
      return false
    }
  }

  private mutating func setFlag(_ key: String, _ value: Bool) {
    switch key {
    case "append": append = value
    case "create": create = value
    case "become": become = value
    case "allow-fail": allowFail = value
    case "serial": serial = value
    case "raw": raw = value
    case "isolated": isolated = value
    default: preconditionFailure("flag \(key) missing from setFlag")
    }
  }

  private mutating func setText(_ key: String, _ value: String) {
    switch key {
    case "name": name = value
    case "file": file = value
    case "owner": owner = value
    case "section": section = value
    case "creates": creates = value
    case "unless": unless = value
    case "expect": expect = value
    case "user": user = value
    case "client": client = value
    case "cwd": cwd = value
    case "env": env = value
    case "interpreter": interpreter = value
    default: preconditionFailure("text attribute \(key) missing from setText")
    }
  }

  static func example(for key: String) -> String {
    switch key {
    case "role": return "controller"
    case "tags": return "keystone,db"
    case "name": return "create-keystone-db"
    case "file": return "/etc/keystone/keystone.conf"
    case "owner": return "root:keystone"
    case "section": return "database"
    case "creates": return "/etc/keystone/fernet-keys/0"
    case "unless": return "\"test -f /etc/done\""
    case "expect": return "\"active \\\\(running\\\\)\""
    case "user": return "keystone"
    case "client": return "\"mysql -uroot\""
    case "cwd": return "/opt/app"
    case "env": return "\"LANG=C APP_ENV=production\""
    case "interpreter": return "python3"
    default: return "VALUE"
    }
  }

  /// The longest `timeout` or `delay`: a week, far beyond any step, and far from the
  /// arithmetic limits of the clock.
  public static let maximumDuration: Duration = .seconds(7 * 24 * 3600)

  /// Parses `500ms`, `90s`, `5m`, `1h`, `1m30s`, or a bare number of seconds; a value too
  /// large to be a duration (more than about 30 years) is nil.
  public static func parseDuration(_ text: String) -> Duration? {
    let limit = 1_000_000_000
    if let seconds = Int(text), seconds >= 0 { return seconds > limit ? nil : .seconds(seconds) }
    var total: Duration = .zero
    var rest = Substring(text)
    guard !rest.isEmpty else { return nil }
    while !rest.isEmpty {
      let digits = rest.prefix(while: \.isNumber)
      guard let number = Int(digits), number <= limit else { return nil }
      rest = rest.dropFirst(digits.count)
      let unit = rest.prefix(while: \.isLetter)
      rest = rest.dropFirst(unit.count)
      switch unit {
      case "ms": total += .milliseconds(number)
      case "s": total += .seconds(number)
      case "m": total += .seconds(number * 60)
      case "h": total += .seconds(number * 3600)
      default: return nil
      }
    }
    return total
  }
}
