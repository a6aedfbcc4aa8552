import Foundation

/// What a block of notes becomes, inferred from its content and the prose before it.
enum InitKind: Sendable, Equatable {
  case shell
  /// What is typed at a client's prompt (the client invocation before the first prompt is
  /// dropped): SQL, or a datastore's commands; `client` when not MySQL's or MariaDB's.
  case sql(client: String? = nil)
  /// A console transcript: `$ ` commands with their output between them.
  case console
  /// An INI fragment merged into `file` (its `[section]` lines say where), which the step
  /// may create when the notes say the file is new.
  case iniMerge(file: String, create: Bool, section: String? = nil)
  /// A whole file, written.
  case writeFile(String)
  /// A fragment added to a file between markers.
  case append(String)

  var language: String {
    switch self {
    case .shell: "sh"
    case .sql: "sql"
    case .console: "console"
    case .iniMerge: "ini"
    case .writeFile, .append: "text"
    }
  }

  var attributes: [String] {
    switch self {
    case .shell, .console: []
    case .sql(let client): client.map { ["client=\"\($0)\""] } ?? []
    case .iniMerge(let file, let create, let section):
      ["file=" + file] + (section.map { ["section=" + $0] } ?? []) + (create ? ["create"] : [])
    case .writeFile(let file): ["file=" + file]
    case .append(let file): ["file=" + file, "append"]
    }
  }

  /// The block's text as the step runs it.
  func body(_ literal: String) -> String {
    if self == .shell {
      // A prompt copied with the command: root's (`[root@controller ~]# `, `root@db1:~# `),
      // a virtualenv's (`(venv) $ `), a host's (`db01# `, `mrdb-cls{01,02}# `).
      return literal.split(separator: "\n", omittingEmptySubsequences: false).map { line in
        line.replacingOccurrences(
          of:
            #"^(\s*)(\[[^\]\s]+@[^\]]+\]|[A-Za-z0-9_-]+@[A-Za-z0-9_.-]+:[^#$\s]*|\([A-Za-z0-9_.-]+\)(?: [^\s#$]+)? ?|[A-Za-z][A-Za-z0-9_.{},-]*)[#$] "#,
          with: "$1", options: .regularExpression)
      }.joined(separator: "\n")
    }
    guard case .sql = self else { return literal }
    // From the first prompt or statement on, without the prompts MySQL's steps do not strip
    // themselves, and without the line that leaves the prompt.
    let lines = literal.split(separator: "\n", omittingEmptySubsequences: false)
    let first =
      lines.firstIndex { ClientPrompt.isPrompted(String($0)) }
      ?? lines.firstIndex { ClientPrompt.isStatement($0.trimmingWhitespace()) } ?? 0
    return lines[first...].map(ClientPrompt.strippingPrompt)
      .filter { !ClientPrompt.leaving.contains($0.trimmingWhitespace()) }
      .joined(separator: "\n")
  }

  static func isSQLPrompt(_ line: Substring) -> Bool {
    let text = line.drop { $0 == " " }
    return text.hasPrefix("mysql>") || text.hasPrefix("MariaDB [") || text.hasPrefix("MySQL [")
  }

  /// Words that introduce a file the block goes into.
  static let editWords = [
    "编辑", "修改", "创建", "添加", "配置文件", "edit", "modify", "create", "add to", "append to", "in ",
  ]
  static let createWords = ["创建", "create", "new file"]
}

extension NotesConverter {
  /// What a block becomes: nil for a block that only shows output.
  static func kind(
    of code: MarkdownDocument.CodeBlock, context: [String], previousFile: String? = nil,
    openClient: String?? = nil
  ) -> InitKind? {
    let language = code.info.split(separator: " ").first.map(String.init)?.lowercased() ?? ""
    let lines = code.literal.split(separator: "\n").map { $0.trimmingWhitespace() }
      .filter { !$0.isEmpty }
    guard !lines.isEmpty else { return nil }
    if let typed = typedAtPrompt(lines, language: language, openClient: openClient) {
      return typed
    }
    let prose = context.first ?? ""
    // "You should see:", "输出如下": what a command printed, not a command.
    let lowerProse = prose.lowercased()
    if outputWords.contains(where: lowerProse.contains), !looksLikeCommands(lines) {
      return nil
    }
    // "[database]配置段：", "in the [database] section": keys of that section of the file
    // the enclosing item names ("编辑文件/etc/glance/glance-api.conf").
    if let section = sectionName(in: prose), !looksLikeCommands(lines),
      let file = filePath(in: prose) ?? context.dropFirst().lazy.compactMap(filePath).first
        ?? previousFile,
      !lines.contains(where: { $0.hasPrefix("[") && $0.hasSuffix("]") })
    {
      return .iniMerge(file: file, create: false, section: section)
    }
    if let file = filePath(in: prose) ?? (refersToSameFile(prose) ? previousFile : nil),
      !looksLikeCommands(lines)
    {
      let creates = InitKind.createWords.contains(where: prose.lowercased().contains)
      if lines.contains(where: { $0.hasPrefix("[") && $0.hasSuffix("]") && !$0.contains(" ") }) {
        return .iniMerge(file: file, create: creates)
      }
      return creates ? .writeFile(file) : .append(file)
    }
    // File content with no file named: the notes do not say where it goes.
    if !looksLikeCommands(lines), lines.contains(where: { $0.hasSuffix("{") || $0 == "}" }) {
      return nil
    }
    let prompted = lines.filter { $0.hasPrefix("$ ") }.count
    if prompted > 0, prompted < lines.count, lines[0].hasPrefix("$ ") { return .console }
    if ["ini", "conf", "cfg", "yaml", "yml", "json", "xml", "text", "txt", "output"].contains(
      language)
    {
      return nil
    }
    return .shell
  }

  /// What is typed at a client's prompt: prompted lines, a `sql` fence, or statements
  /// after a block that opened the client (`openClient`: the client's `client=`, `.some(nil)`
  /// for MySQL's); its client is the one the block opens, else the open one.
  static func typedAtPrompt(
    _ lines: [String], language: String, openClient: String??
  ) -> InitKind? {
    let opened = lines.lazy.compactMap(ClientPrompt.opened).first
    let client = opened.map(\.client) ?? openClient ?? nil
    if lines.contains(where: ClientPrompt.isPrompted)
      || ["sql", "mysql", "psql"].contains(language)
    {
      return .sql(client: client)
    }
    let statements = lines.filter { !ClientPrompt.leaving.contains($0) }
    if openClient != nil || opened != nil, let first = statements.first,
      ClientPrompt.isStatement(first), !looksLikeCommands(statements)
    {
      return .sql(client: client)
    }
    return nil
  }

  /// The INI section the prose names for the block: `[database]` beside a word for
  /// section (配置段, 部分, section).
  static func sectionName(in prose: String) -> String? {
    let lower = prose.lowercased()
    guard ["配置段", "部分", "段", "section", "stanza"].contains(where: lower.contains),
      let open = prose.firstIndex(of: "["), let close = prose[open...].firstIndex(of: "]")
    else { return nil }
    let name = prose[prose.index(after: open)..<close]
    guard !name.isEmpty,
      name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "_-.".contains($0)) })
    else { return nil }
    return String(name)
  }

  /// Whether the prose points back at the file of the block before ("in the same file").
  static func refersToSameFile(_ prose: String) -> Bool {
    let lower = prose.lowercased()
    return ["same file", "that file", "this file", "同一文件", "该文件", "此文件"].contains(
      where: lower.contains)
  }

  /// Words by which notes introduce what a command printed.
  static let outputWords = [
    "should see", "you see", "expected", "prints", "printed", "the output", "output:",
    "should contain", "should include", "shows", "输出", "显示如下", "结果如下", "返回", "如下所示",
  ]

  /// An absolute path the prose names as the block's destination.
  static func filePath(in prose: String) -> String? {
    let lower = prose.lowercased()
    guard InitKind.editWords.contains(where: lower.contains) else { return nil }
    // A path ends at the first character no path of a guide holds: prose glued to it
    // ("编辑/etc/nova/nova.conf文件") is not part of it.
    let pathCharacters = CharacterSet(
      charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+~@%=")
    let stops = pathCharacters.inverted
    // The first absolute path of two components or more (`/etc/my.cnf`, `/srv/app/x.html`).
    var rest = prose[...]
    while let start = rest.range(of: "/") {
      let path = prose[start.lowerBound...].prefix {
        !$0.unicodeScalars.contains(where: stops.contains)
      }
      let before: Character =
        start.lowerBound == prose.startIndex ? " " : prose[prose.index(before: start.lowerBound)]
      let boundary =
        before.unicodeScalars.allSatisfy(stops.contains) || "编辑改建加件到".contains(before)
      if path.count > 4, path.dropFirst().contains("/"), !path.hasSuffix("/"), boundary {
        return String(path.hasSuffix(".") ? path.dropLast() : path)
      }
      rest = prose[start.upperBound...]
    }
    return nil
  }

  /// Whether lines read like commands rather than file content.
  static func looksLikeCommands(_ lines: [String]) -> Bool {
    let commands = [
      "yum ", "apt", "systemctl ", "service ", "mysql ", "openstack ", "su ", "sed ", "echo ",
      "cp ", "mv ", "ln ", "chown ", "chmod ", "source ", ". ", "export ", "keystone-", "nova-",
      "glance-", "neutron-", "curl ", "wget ", "mkdir ", "rabbitmqctl ", "$ ", "sudo ",
    ]
    // A here-document wrapper (`cat > FILE <<EOF … EOF`) is a command that writes the file:
    // as a file step, the `cat` line would end up in the file.
    if let first = lines.first,
      first.range(of: #"^(sudo\s+)?(cat|tee)\b[^<]*<<-?\s*['"]?\w+"#, options: .regularExpression)
        != nil
    {
      return true
    }
    // An editor's command is a command too, never a file's content.
    if let first = lines.first?.split(separator: " ").first.map(String.init),
      KnownCommands.editors.contains(first)
    {
      return true
    }
    let count = lines.filter { line in commands.contains(where: line.hasPrefix) }.count
    return count * 2 > lines.count
  }
}

extension NotesConverter {
  /// Why a command block cannot run unattended, in the words that decided it: an editor or
  /// a pager waits for a person at a terminal, a follow never ends (`KnownCommands`). Such a
  /// block stays prose.
  static func unattendedProblem(_ lines: [String]) -> String? {
    for line in lines {
      for command in KnownCommands.invocations(in: line).commands {
        guard let finding = KnownCommands.finding(command), finding.wait != .question else {
          continue
        }
        return "'\(line)' \(finding.reason)"
      }
    }
    return nil
  }
}

extension NotesConverter {
  /// Whether a heading names a section done by hand when needed, not on every run:
  /// troubleshooting, recovery, uninstalling, starting over.
  static func isByHandSection(_ heading: String) -> Bool {
    let lower = heading.lowercased()
    return [
      "troubleshoot", "recovery", "recover ", "uninstall", "rollback", "roll back",
      "re-deploy", "redeploy", "starting order after", "排错", "故障", "卸载", "回滚",
    ].contains(where: lower.contains)
  }

  /// Why a block with lines typed at a client's prompt is not one step: commands for the
  /// shell come before or after them (a session a person drives by hand), which neither
  /// the shell nor the client can run whole. Nothing of such a block is dropped or run.
  static func mixesShellAndPrompt(_ lines: [String]) -> String? {
    guard let first = lines.firstIndex(where: ClientPrompt.isPrompted) else { return nil }
    let shell = lines.enumerated().first { index, line in
      !ClientPrompt.isPrompted(line) && !ClientPrompt.leaving.contains(line)
        && (index < first
          ? ClientPrompt.opened(by: line) == nil
          : looksLikeCommands([line])
            || line.range(
              of: #"^(sudo )?[a-z][a-z0-9_.-]* (.* )?--?[a-z]"#, options: .regularExpression) != nil)
    }
    return shell.map { "'\($0.element)' is a shell command among lines typed at a client's prompt" }
  }

  /// The absolute path a block's first line opens in an editor (`sudo nano /etc/x.conf`).
  static func editorOpening(_ lines: [String]) -> String? {
    guard let first = lines.first,
      let command = KnownCommands.invocations(in: first).commands.first,
      KnownCommands.editors.contains(command.program),
      let path = command.arguments.last(where: { !$0.hasPrefix("-") }), path.hasPrefix("/")
    else { return nil }
    return path
  }

  /// The step an editor's content makes: a merge of its sections, the whole file when the
  /// prose says it is new, else an addition between markers (never a whole file that
  /// would replace what the guide only added to).
  static func editedKind(_ file: String, _ lines: [String], prose: [String]) -> InitKind {
    let creates = InitKind.createWords.contains(where: (prose.first ?? "").lowercased().contains)
    if lines.contains(where: { $0.hasPrefix("[") && $0.hasSuffix("]") && !$0.contains(" ") }) {
      return .iniMerge(file: file, create: creates)
    }
    return creates ? .writeFile(file) : .append(file)
  }

  /// The fence's language for a step of `kind`: the author's `bash` stays bash (its
  /// pipefail and its syntax), any other shell block is `sh`.
  static func language(of kind: InitKind, fence info: String) -> String {
    let written = info.split(separator: " ").first.map { $0.lowercased() } ?? ""
    return kind == .shell && written == "bash" ? "bash" : kind.language
  }

  /// Why the first line of a block that would run as shell is not a command, in its words:
  /// a list item, a checklist, a table, or a sentence. Such a block stays prose.
  static func notACommand(_ lines: [String]) -> String? {
    guard let first = lines.first(where: { !$0.isEmpty && !$0.hasPrefix("#") }) else { return nil }
    let marks = ["- ", "* ", "+ ", "| ", "+-", "[ ]", "[x]", "[X]", "> ", "=>", "..."]
    if marks.contains(where: first.hasPrefix) {
      return "'\(first)' is a list, a table or a quotation, not a command"
    }
    // A sentence: a capital, four words or more, a full stop or a colon at the end.
    let words = first.split(separator: " ")
    if let letter = first.first, letter.isUppercase, words.count >= 4,
      first.hasSuffix(".") || first.hasSuffix(":")
    {
      return "'\(first)' is a sentence, not a command"
    }
    return nil
  }
}

extension NotesConverter {
  /// Why a block that would run as shell is configuration instead, in the words that
  /// decided it: section headers (`[Unit]` would run `[`), `key = value` settings (would run
  /// `key`), Python settings, an ellipsis standing for the rest of a file. Half of its lines
  /// or more must read so.
  static func configurationProblem(_ lines: [String]) -> String? {
    let meaningful = lines.filter { !$0.isEmpty && !$0.hasPrefix("#") && !$0.hasPrefix(";") }
    let settings = meaningful.filter { line in
      configurationPatterns.contains { line.range(of: $0, options: .regularExpression) != nil }
    }
    guard let first = settings.first, settings.count * 2 >= meaningful.count else { return nil }
    return "'\(first)' is configuration, not a command, and the notes do not name its file"
  }

  /// Lines of configuration that no shell runs as meant.
  static let configurationPatterns = [
    #"^\[[A-Za-z0-9_ .:/-]+\]$"#,  // an INI or systemd section
    #"^[A-Za-z_][A-Za-z0-9_.-]*\s+=\s*\S"#,  // key = value
    #"^[A-Za-z_][A-Za-z0-9_.-]*\s*=\s+\S"#,  // key= value
    #"^\.\s*\.\s*\.$"#,  // ". . ." for the rest of a file
    #"^['"][A-Za-z0-9_]+['"]\s*:"#,  // 'KEY': value in a Python or JSON mapping
    #"^[A-Z][A-Z0-9_]*\s*=\s*[\[{(]"#,  // SETTING = [ / { / ( in settings.py
  ]
}
